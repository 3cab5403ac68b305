#!/usr/bin/env node
// The `simdnet` command: train | denoise | eval | export | import | bench. Bad flags, values or files print one line and exit 2.

import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { NOISE_KINDS, DEFAULT_NOISE_FACTOR, noiseProblem, type NoiseKind } from '../data/noise.js';
import { SimdnetError } from '../errors.js';
import { DEFAULT_LR, type OptimizerName } from '../optimizers.js';
import { DEEP_STEP, REFERENCE_STEP, measureSteps } from './step-bench.js';
import { denoiseFiles, evaluateFile } from './tools.js';
import { exportFile, importFile } from './onnx-files.js';
import { TRAIN_LOSSES, resumeConfig, trainJob } from './train-job.js';
import { DEFAULT_CONV_CHANNELS, PIXEL_SHUFFLE_EXPECTED, PIXEL_SHUFFLE_FACTORS, RUN_MODELS } from '../training/run.js';
import { BACKEND_NAMES } from '../backend/backend.js';
import { MAX_THREADS } from '../backend/wasm.js';
import { HIDDEN_ACTIVATIONS } from '../layers/index.js';
import { MAX_SEED } from '../random.js';
import { IMAGE_WIDTH } from '../data/dataset.js';
import { BEST_PRESET, CONV_PRESET, LR_SCHEDULES, PRESETS, describeSchedules, type PresetName } from '../training/recipes.js';
import { enableRelaxedSimd, type RunOptions } from './runtime.js';

enableRelaxedSimd(); // before any wasm is compiled

/** The installed package's version (package.json is two folders up from dist/cli/ and from src/cli/ alike). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Epochs of `npm start`: enough for the quality bar on the bundled data (see README). */
export const DEFAULT_EPOCHS = 30;

const int = (what: string, min = 1, max = Number.MAX_SAFE_INTEGER) => (v: string) => {
  const n = Number(v);
  if (!/^\s*-?\d+\s*$/.test(v) || n < min || n > max)
    throw new InvalidArgumentError(`expected ${what} (an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`}), got '${v}'`);
  return n;
};
/** A plain decimal such as 5, 0.1 or 1e-3; NaN for anything else (Number() alone takes '0x10', '0b1' and ''). */
const decimal = (v: string) => (/^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(v) ? Number(v) : NaN);
const positive = (what: string) => (v: string) => {
  const n = decimal(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected ${what} (a number > 0), got '${v}'`);
  return n;
};
const nonNegative = (what: string) => (v: string) => {
  const n = decimal(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected ${what} (a number ≥ 0), got '${v}'`);
  return n;
};
const sizes = (v: string) => {
  const parts = v.split(',').map((s) => s.trim());
  if (!parts.every((p) => /^\d+$/.test(p) && Number(p) > 0)) throw new InvalidArgumentError(`expected comma-separated positive layer sizes like 128 or 256,64,256, got '${v}'`);
  return parts.map(Number);
};
const fraction = (what: string) => (v: string) => {
  const n = decimal(v);
  if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`expected ${what} (a fraction from 0 up to, not including, 1), got '${v}'`);
  return n;
};

/** --preset NAME: the preset's settings (PRESETS), except those given as flags. */
function applyPreset(o: Record<string, unknown>, command: Command, name: PresetName): void {
  const preset: Record<string, unknown> = JSON.parse(JSON.stringify(PRESETS[name])); // its lists are read-only
  for (const [key, value] of Object.entries(preset)) if (command.getOptionValueSource(key) !== 'cli') o[key] = value;
}

function describePreset(): string {
  const b = BEST_PRESET, c = CONV_PRESET;
  return `best: ${IMAGE_WIDTH}-${b.hidden.join('-')}-${IMAGE_WIDTH}, batch ${b.batchSize}, ${b.epochs} epochs, adam lr ${b.lr}, ${b.lrSchedule} schedule; ` +
    `conv: 3×3 convolutions 1-${c.channels.join('-')}-1, batch ${c.batchSize}, ${c.epochs} epochs, adam lr ${c.lr}, ${c.lrSchedule} schedule`;
}
const backendOption = () => new Option('--backend <name>', 'kernel backend').choices(BACKEND_NAMES).default('wasm');
/** --threads and --no-relaxed: how to run, never what is computed (results are the same bits whatever the count). */
function runOptions(command: Command): Command {
  return command
    .option('--threads <n>', 'kernel threads (default: every core)', int('a thread count', 1, MAX_THREADS))
    .option('--no-relaxed', 'the plain SIMD build even where relaxed SIMD runs (also: SIMDNET_NO_RELAXED=1)');
}
const run = (o: { threads?: number; relaxed?: boolean }): RunOptions => ({ threads: o.threads, relaxed: o.relaxed });
/** What `train --resume` may be given: how long and how it runs, never what it computes. */
const RESUME_MAY_CHANGE = ['epochs', 'checkpointEvery', 'threads', 'relaxed'];
/** An option's flag name from its attribute name: pixelShuffle → pixel-shuffle */
const flagName = (attribute: string) => attribute.replace(/[A-Z]/g, (ch) => '-' + ch.toLowerCase());
/** 'a, b and c' (or 'a, b or c') */
const listed = (items: string[], last = 'and') => (items.length > 1 ? `${items.slice(0, -1).join(', ')} ${last} ${items.at(-1)}` : items.join(''));

function program(): Command {
  const cli = new Command('simdnet')
    .description('Neural networks on WebAssembly SIMD: a denoising autoencoder for MNIST')
    .version(packageVersion(), '-V, --version', 'print the version of simdnet')
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(false);

  runOptions(cli
    .command('train'))
    .description('train the denoising autoencoder and write model.simdnet, metrics.json, samples.png and loss.svg')
    .option('--epochs <n>', 'passes over the training set', int('a number of epochs'), DEFAULT_EPOCHS)
    .option('--batch-size <n>', 'samples per step', int('a batch size'), 64)
    .option('--lr <rate>', `learning rate (default: ${Object.entries(DEFAULT_LR).map(([k, v]) => `${k} ${v}`).join(', ')})`, positive('a learning rate'))
    .addOption(new Option('--optimizer <name>', 'update rule (adamw: decoupled weight decay)').choices(Object.keys(DEFAULT_LR)).default('adam'))
    .addOption(new Option('--model <kind>', "dense: the autoencoder of --hidden; conv: 3×3 'same' convolutions of --channels").choices(RUN_MODELS).default('dense'))
    .option('--hidden <sizes>', 'dense: hidden layer sizes, comma-separated (e.g. 256,64,256)', sizes, [128])
    .option('--channels <sizes>', `conv: the hidden convolutions' feature maps, comma-separated (default ${DEFAULT_CONV_CHANNELS.join(',')})`, sizes)
    .option('--pixel-shuffle <r>', 'conv: run the convolutions at 1/r resolution on r² times the channels, between PixelUnshuffle2D(r) and PixelShuffle2D(r) (lossless; default: off, full resolution)', int('a pixel shuffle factor', 1))
    .addOption(new Option('--activation <name>', 'hidden activation').choices(HIDDEN_ACTIVATIONS).default('relu'))
    .addOption(new Option('--loss <name>', 'reconstruction loss').choices(TRAIN_LOSSES).default('bce'))
    .addOption(new Option('--noise <kind>', 'input corruption').choices([...NOISE_KINDS]).default('gaussian'))
    .option('--noise-factor <f>', 'noise strength (default: gaussian 0.3 = std, salt-pepper 0.2 and mask 0.3 = fraction of pixels)', nonNegative('a noise factor'))
    .option('--seed <n>', 'seed of init, shuffling and noise', int('a seed', 0, MAX_SEED), 0)
    .addOption(backendOption())
    .option('--data <source>', "'bundled' (10,000 digits of the mnist package) or a folder of MNIST IDX files", 'bundled')
    .option('--out <dir>', 'output folder', 'out')
    .option('--checkpoint-every <n>', 'also write out/checkpoint.simdnet every n batches (always at epoch ends)', int('a batch count', 0), 0)
    .option('--init-from <file>', 'start from the weights of an .onnx or .simdnet model (784 → 784) instead of a random init; its layers replace --hidden and --activation')
    // the training loop (issue 11): validation, early stopping, schedules, the measured preset
    .option('--validation-split <f>', 'hold out this fraction of the training digits and report val loss each epoch', fraction('a validation split'), 0)
    .option('--early-stopping <patience>', 'stop after this many epochs without a better val loss (test loss without --validation-split), keeping the best weights', int('a patience in epochs'))
    .addOption(new Option('--lr-schedule <name>', `learning-rate schedule: ${describeSchedules()}`).choices([...LR_SCHEDULES]).default('constant'))
    .option('--dropout <p>', 'a Dropout of rate p after each hidden layer (training only; predict and eval run without it)', fraction('a dropout rate'))
    .option('--weight-decay <f>', 'weight decay (decoupled for adamw, L2 for the others; default 0, adamw 0.01)', nonNegative('a weight decay'))
    .addOption(new Option('--preset <name>', `a measured recipe; flags given too override it. best: ${describePreset()}`).choices(Object.keys(PRESETS)))
    .option('--resume <dir>', "continue the run in <dir> from its checkpoint until --epochs epochs in all (default: its own count; its other settings are kept)")
    .action(async (o, command: Command) => {
      if (o.resume !== undefined) {
        const flag = (name: string) => command.options.find((opt) => opt.attributeName() === name)!.long!;
        const given = command.options
          .map((opt) => opt.attributeName())
          .filter((name) => command.getOptionValueSource(name) === 'cli' && name !== 'resume' && !RESUME_MAY_CHANGE.includes(name));
        if (given.length) throw new SimdnetError(`--resume keeps the run's own settings; only ${listed(RESUME_MAY_CHANGE.map(flag))} may be given with it, not ${given.map(flag).join(', ')}`, 'E_OPTION');
        // without --epochs the run keeps its own count (not the default 30)
        const { config, checkpoint } = resumeConfig(o.resume, command.getOptionValueSource('epochs') === 'cli' ? o.epochs : undefined);
        if (command.getOptionValueSource('checkpointEvery') === 'cli') config.checkpointEvery = o.checkpointEvery;
        await trainJob(config, console.log, checkpoint, run(o));
        return;
      }
      if (o.initFrom !== undefined) {
        const given = ['hidden', 'activation', 'dropout', 'model', 'channels', 'pixelShuffle'].filter((name) => command.getOptionValueSource(name) === 'cli');
        if (given.length) throw new SimdnetError(`--init-from takes the layers from its file; do not give ${given.map((n) => '--' + flagName(n)).join(' or ')} with it`, 'E_OPTION');
      }
      const noise = o.noise as NoiseKind;
      const noiseFactor = o.noiseFactor ?? DEFAULT_NOISE_FACTOR[noise];
      const problem = noiseProblem(noise, noiseFactor);
      if (problem) throw new SimdnetError(`--noise-factor: ${problem}`, 'E_OPTION');
      if (o.preset !== undefined) applyPreset(o, command, o.preset as PresetName);
      const conv = o.model === 'conv';
      const misplaced = (conv ? ['hidden', 'activation', 'dropout'] : ['channels', 'pixelShuffle']).filter((name) => command.getOptionValueSource(name) === 'cli');
      if (misplaced.length) throw new SimdnetError(`${misplaced.map((n) => '--' + flagName(n)).join(' and ')} ${misplaced.length > 1 ? 'are' : 'is'} for ${conv ? '--model dense' : '--model conv'}; this run trains --model ${o.model}`, 'E_OPTION');
      if (!conv) delete o.channels;
      if (o.pixelShuffle !== undefined && !PIXEL_SHUFFLE_FACTORS.includes(o.pixelShuffle)) throw new SimdnetError(`--pixel-shuffle ${o.pixelShuffle}: expected ${PIXEL_SHUFFLE_EXPECTED}`, 'E_OPTION');
      // off unless given (1 is off too): a run without it keeps the settings, and so the checkpoints, it had before
      if (!(o.pixelShuffle > 1)) delete o.pixelShuffle;
      const { resume: _, threads: _t, relaxed: _r, preset: _p, ...flags } = o;
      await trainJob({ ...flags, noise, noiseFactor, lr: o.lr ?? DEFAULT_LR[o.optimizer as OptimizerName] }, console.log, undefined, run(o));
    });

  runOptions(cli
    .command('denoise')
    .description('denoise 28×28 grayscale PNGs with a trained model; writes <name>.denoised.png into --out')
    .requiredOption('--model <file>', 'a model.simdnet file')
    .requiredOption('--input <png...>', 'one or more 28×28 PNG files')
    .option('--out <dir>', 'output folder', 'out')
    .addOption(backendOption()))
    .action(async (o) => {
      const written = await denoiseFiles(o.model, o.input, o.out, o.backend, console.log, run(o));
      for (const w of written) console.log(`wrote ${w}`);
    });

  runOptions(cli
    .command('eval')
    .description('print the test metrics of a model (with the noise it was trained with)')
    .requiredOption('--model <file>', 'a model.simdnet file')
    .option('--data <source>', "'bundled' or a folder of MNIST IDX files", 'bundled')
    .addOption(new Option('--noise <kind>', 'override the noise kind').choices([...NOISE_KINDS]))
    .option('--noise-factor <f>', 'override the noise factor', nonNegative('a noise factor'))
    .option('--json', 'print JSON')
    .addOption(backendOption()))
    .action(async (o) => {
      const m = await evaluateFile(o.model, o, run(o));
      if (o.json) console.log(JSON.stringify(m));
      else
        console.log(
          `${m.testCount} test digits: ${m.loss} loss ${m.testLoss.toFixed(4)}, MSE ${m.testMse.toFixed(5)}, ` +
            `PSNR noisy ${m.psnrNoisy?.toFixed(2)} dB → denoised ${m.psnrDenoised?.toFixed(2)} dB`,
        );
    });

  cli
    .command('export')
    .description('write a model as ONNX (IR 8, opset 17) for onnxruntime, PyTorch and other runtimes')
    .requiredOption('--model <file>', 'a model.simdnet file (or a checkpoint)')
    .requiredOption('--out <file>', 'the .onnx file to write')
    .action((o) => {
      exportFile(o.model, o.out);
      console.log(`wrote ${o.out}`);
    });

  cli
    .command('import')
    .description('read an ONNX MLP or conv net (PyTorch, tf2onnx) into a model.simdnet file to eval, denoise or fine-tune')
    .argument('<file>', 'an .onnx file')
    .requiredOption('--out <file>', 'the .simdnet file to write')
    .action((file: string, o) => {
      const c = importFile(file, o.out);
      const widths = [c.spec.inputWidth, ...c.spec.layers.flatMap((l) => (l.type === 'linear' ? [l.out] : []))];
      // an MLP as its widths; a model with an image input as its input shape and its layers
      const what = c.spec.inputShape ? `(N, ${c.spec.inputShape.join(', ')}) → ${c.spec.layers.map((l) => l.type).join(', ')}` : `${widths.join('-')} ${c.spec.layers.filter((l) => l.type !== 'linear').map((l) => l.type).join('/')}`;
      console.log(`wrote ${o.out}: ${what} from ${c.producer || 'an unnamed producer'} (IR ${c.irVersion}, opset ${c.opset})`);
    });

  cli
    .command('bench')
    .description('training-step throughput of the wasm and js backends, side by side')
    .option('--steps <n>', 'steps per round', int('a step count'), 20)
    .option('--threads <n>', 'kernel threads of the wasm backend (default: every core)', int('a thread count', 1, MAX_THREADS))
    .action(async (o) => {
      for (const c of [REFERENCE_STEP, DEEP_STEP]) {
        const wasm = await measureSteps('wasm', c, o.steps, undefined, o.threads);
        const js = await measureSteps('js', c, Math.max(2, Math.round(o.steps / 10)));
        console.log(`${c.name}: wasm ${Math.round(wasm)} samples/s, js ${Math.round(js)} samples/s, ratio ${(wasm / js).toFixed(1)}×`);
      }
    });
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    const commands = program().commands.map((c) => c.name());
    console.error(`simdnet: expected a command: ${listed(commands, 'or')} (simdnet --help says more, simdnet --version the version)`);
    return 2;
  }
  try {
    await program().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      console.error(`simdnet: ${e.message.replace(/^error: /, '')}`);
      return 2;
    }
    if (e instanceof SimdnetError) {
      console.error(`simdnet: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
