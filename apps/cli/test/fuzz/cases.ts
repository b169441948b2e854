/**
 * Fuzz cases: case `index` of seed `seed` is always the same command line and the same files
 * (createRng(seed * 1_000_003 + index)), so a failure is replayed from its two numbers. The mix
 * favours cheap commands on the small network; the PP-OCR and zoo models come in a fifth of the
 * model cases, and `eval` in a few.
 */
import { createRng, type Rng } from '@deprune/tensor';
import type { Corpus, ModelName } from './corpus';
import { chance, EXTREME_NUMBERS, HOSTILE_NAMES, mutateBytes, mutateJpeg, mutateJson, mutateNpy, mutatePng, pick } from './mutate';
import { mutateModel } from './mutate-model';

/** `{dir}` in an argument stands for the case's folder (absolute), where its files are written. */
export const DIR = '{dir}';

export interface FuzzCase {
  /** `<seed>:<index>` */
  id: string;
  /** What is fuzzed through which command, e.g. `model/prune`. */
  kind: string;
  /** The mutations, readable. */
  steps: string[];
  /** Files to write into the case's folder, by relative path. */
  files: Record<string, Uint8Array>;
  argv: string[];
}

const VARIANTS = ['deprune', 'deprune-b', 'deprune-bh', 'channel', 'unstructured', 'nm'] as const;
const PRESETS = ['ppocr-cls', 'ppocr-rec', 'ppocr-det', 'imagenet'] as const;
/** Flags every run case takes: the CPU backend and one timed run keep it fast. */
const RUN_FAST = ['--mode', 'cpu', '--repeat', '1'];

const text = (value: string) => new TextEncoder().encode(value);

function modelSeed(rng: Rng, corpus: Corpus, weights: { cls: number; zoo: number }): { name: ModelName; bytes: Uint8Array } {
  const draw = rng.next();
  const name: ModelName = draw < weights.zoo ? 'zoo' : draw < weights.zoo + weights.cls ? 'cls' : pick(rng, ['tiny', 'tinyDynamic'] as const);
  return { name, bytes: corpus.models[name] };
}

type CaseBuilder = (rng: Rng, corpus: Corpus) => Omit<FuzzCase, 'id'>;

const builders: { weight: number; build: CaseBuilder }[] = [
  {
    weight: 26,
    build(rng, corpus) {
      const seed = modelSeed(rng, corpus, { cls: 0.2, zoo: 0.1 });
      const mutated = mutateModel(seed.bytes, rng);
      const flags = [...(chance(rng, 0.5) ? ['--json'] : []), ...(seed.name === 'tinyDynamic' && chance(rng, 0.5) ? ['--input-shape', '1,3,16,16'] : [])];
      return { kind: `model/inspect (${seed.name})`, steps: mutated.steps, files: { 'm.onnx': mutated.value }, argv: ['inspect', `${DIR}/m.onnx`, ...flags] };
    },
  },
  {
    weight: 22,
    build(rng, corpus) {
      const seed = modelSeed(rng, corpus, { cls: 0.15, zoo: 0.04 });
      const mutated = mutateModel(seed.bytes, rng);
      const argv = ['prune', `${DIR}/m.onnx`, '-o', `${DIR}/out.onnx`, '--variant', pick(rng, VARIANTS), '--ratio', pick(rng, ['0.5', '0.3', '0.9', '0'])];
      if (seed.name === 'tinyDynamic' && chance(rng, 0.5)) argv.push('--input-shape', pick(rng, ['1,3,16,16', '1,3,1,1', '1,3,1e9,1e9', '1,3,0,4']));
      if (chance(rng, 0.3)) argv.push('--json');
      return { kind: `model/prune (${seed.name})`, steps: mutated.steps, files: { 'm.onnx': mutated.value }, argv };
    },
  },
  {
    weight: 8,
    build(rng, corpus) {
      const mutated = mutateModel(corpus.models.tiny, rng);
      return { kind: 'model/run (tiny)', steps: mutated.steps, files: { 'm.onnx': mutated.value }, argv: ['run', `${DIR}/m.onnx`, ...RUN_FAST] };
    },
  },
  {
    weight: 10,
    build(rng, corpus) {
      const mutated = mutateNpy(corpus.npy, rng);
      const output = chance(rng, 0.3) ? ['-o', `${DIR}/y.npy`] : [];
      return { kind: 'npy/run', steps: mutated.steps, files: { 'm.onnx': corpus.models.tinyDynamic, 'x.npy': mutated.value }, argv: ['run', `${DIR}/m.onnx`, '--input', `${DIR}/x.npy`, ...output, ...RUN_FAST] };
    },
  },
  {
    weight: 8,
    build(rng, corpus) {
      const jpeg = chance(rng, 0.4);
      const mutated = jpeg ? mutateJpeg(corpus.jpeg, rng) : mutatePng(corpus.png, rng);
      const image = jpeg ? 'x.jpg' : 'x.png';
      return {
        kind: 'image/run',
        steps: mutated.steps,
        files: { 'm.onnx': corpus.models.tinyDynamic, [image]: mutated.value },
        argv: ['run', `${DIR}/m.onnx`, '--image', `${DIR}/${image}`, '--preset', pick(rng, PRESETS), ...RUN_FAST],
      };
    },
  },
  {
    weight: 4,
    build(rng, corpus) {
      const mutated = chance(rng, 0.5) ? mutatePng(corpus.png, rng) : mutateJpeg(corpus.jpeg, rng);
      const labels = chance(rng, 0.3) ? mutateBytes(text('a.png\t0\nb.jpg\t180\n'), rng) : { value: text('a.png\t0\nb.jpg\t180\n'), steps: [] };
      return {
        kind: 'image/eval',
        steps: [...mutated.steps, ...labels.steps],
        files: { 'm.onnx': corpus.models.tinyDynamic, 'data/a.png': mutated.value, 'data/b.jpg': corpus.jpeg, 'data/labels.txt': labels.value },
        argv: ['eval', `${DIR}/m.onnx`, '--task', 'fidelity', '--reference', `${DIR}/m.onnx`, '--data', `${DIR}/data`, '--engine', 'deprune', '--preset', pick(rng, PRESETS), '--limit', '2'],
      };
    },
  },
  {
    weight: 10,
    build(rng, corpus) {
      const mutated = mutateJson(corpus.pruned.plan, rng);
      return {
        kind: 'plan/run',
        steps: mutated.steps,
        files: { 'pruned.onnx': corpus.pruned.model, 'p.deprune.json': text(mutated.value) },
        argv: ['run', `${DIR}/pruned.onnx`, '--plan', `${DIR}/p.deprune.json`, ...RUN_FAST],
      };
    },
  },
  {
    weight: 8,
    build(rng, corpus) {
      const mutated = mutateJson(corpus.config, rng);
      return {
        kind: 'config/prune',
        steps: mutated.steps,
        files: { 'm.onnx': corpus.models.tiny, 'c.json': text(mutated.value) },
        argv: ['prune', `${DIR}/m.onnx`, '-o', `${DIR}/out.onnx`, '--config', `${DIR}/c.json`, ...(chance(rng, 0.3) ? ['--json'] : [])],
      };
    },
  },
  {
    weight: 5,
    build(rng, corpus) {
      // Calibration runs the model in onnxruntime (or the deprune runtime): what deprune accepts, they may not.
      const damageModel = chance(rng, 0.6);
      const model = damageModel ? mutateModel(corpus.models.tinyDynamic, rng) : { value: corpus.models.tinyDynamic, steps: [] };
      const batch = damageModel ? { value: corpus.npy, steps: [] } : mutateNpy(corpus.npy, rng);
      const engine = pick(rng, ['onnxruntime', 'onnxruntime', 'deprune']);
      return {
        kind: `calib/prune (${engine})`,
        steps: [...model.steps, ...batch.steps],
        files: { 'm.onnx': model.value, 'calib.npy': batch.value },
        argv: ['prune', `${DIR}/m.onnx`, '-o', `${DIR}/out.onnx`, '--calib', `${DIR}/calib.npy`, '--engine', engine, '--calib-samples', '2', '--input-shape', '1,3,16,16'],
      };
    },
  },
  {
    weight: 3,
    build(rng, corpus) {
      const mutated = mutateModel(corpus.models.tinyDynamic, rng);
      return {
        kind: 'model/eval (onnxruntime)',
        steps: mutated.steps,
        files: { 'm.onnx': mutated.value, 'data/a.png': corpus.png, 'data/labels.txt': text('a.png\t0\n') },
        argv: ['eval', `${DIR}/m.onnx`, '--task', 'fidelity', '--reference', `${DIR}/m.onnx`, '--data', `${DIR}/data`, '--engine', 'onnxruntime', '--preset', 'ppocr-cls'],
      };
    },
  },
  {
    weight: 4,
    build(rng, corpus) {
      // Flag values, not files: numbers, names and paths where they do not belong.
      const flag = pick(rng, ['--ratio', '--dw', '--pw', '--variant', '--allocation', '--importance', '--group-size', '--tile-rows', '--bwt-granularity', '--input-shape', '--calib-samples']);
      const value = pick(rng, [...HOSTILE_NAMES, ...EXTREME_NUMBERS.map(String), '1,3,1e9,1e9', '0.5.5', '-0', 'NaN', 'Infinity', '1e-400', ' 0.5', '']);
      return {
        kind: 'flags/prune',
        steps: [`${flag} ${JSON.stringify(value.slice(0, 30))}`],
        files: { 'm.onnx': corpus.models.tiny },
        argv: ['prune', `${DIR}/m.onnx`, '-o', `${DIR}/out.onnx`, flag, value],
      };
    },
  },
];

const TOTAL_WEIGHT = builders.reduce((sum, builder) => sum + builder.weight, 0);

export function generateCase(corpus: Corpus, seed: number, index: number): FuzzCase {
  const rng = createRng(seed * 1_000_003 + index);
  let draw = rng.int(TOTAL_WEIGHT);
  const builder = builders.find((candidate) => (draw -= candidate.weight) < 0)!;
  return { id: `${seed}:${index}`, ...builder.build(rng, corpus) };
}
