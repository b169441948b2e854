import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel, GraphBuilder, type GraphProto } from '@deprune/onnx';
import { cleanup, listFiles, runCli, runCliAsync, runJsonAsync, tempDir, type CliResult } from './helpers';

/**
 * Issue 16, items 9 and 8: prune never quietly ruins a model (without calibration it says so; the
 * bundled models calibrate on rendered images by default, as demo does), and it refuses graphs
 * onnxruntime would refuse, naming the node.
 */

interface PruneDocument {
  report: { warnings: string[] };
  calibration?: { source: string; samples: number; importance: string };
  reconstruction?: { layers: unknown[] };
}

const UNCHECKED = /^accuracy was not checked: .*pass --calib <images\/ \| batch\.npy> to calibrate, and measure the result with deprune eval /;

let folder: string;
beforeAll(() => {
  folder = tempDir('deprune-prune-defaults-');
});
afterAll(() => cleanup(folder));

/** Exit 2, and the last stderr line (after any progress lines) is the one-line error. */
function refused(result: CliResult, pattern: RegExp): void {
  expect(result.status, result.stderr).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines[lines.length - 1]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/internal error|\bat .*:\d+:\d+/);
}

describe('prune without calibration warns; bundled models calibrate by default', () => {
  it('prune zoo:mobilenetv3-small warns on stderr, in the report and in --json that accuracy was not checked, and how to check it', async () => {
    const { result, document } = await runJsonAsync<PruneDocument>(['prune', 'zoo:mobilenetv3-small', '-o', 'z.onnx'], { cwd: folder });
    expect(document.report.warnings[0]).toMatch(UNCHECKED);
    expect(document.report.warnings[0]).toContain('deprune eval z.onnx --plan z.deprune.json');
    expect(document.calibration).toBeUndefined();
    expect(result.stderr).toMatch(/deprune: warning: accuracy was not checked/);
    const human = await runCliAsync(['prune', 'zoo:mobilenetv3-small', '-o', 'z.onnx', '--force'], { cwd: folder });
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/Warnings \(\d+\)\n {2}- accuracy was not checked/);
  });

  it('prune ppocr-cls without --calib calibrates on rendered images and reconstructs, without the warning', async () => {
    const { document } = await runJsonAsync<PruneDocument>(['prune', 'ppocr-cls', '-o', 'cls.onnx', '--calib-samples', '4'], { cwd: folder });
    expect(document.calibration).toMatchObject({ source: 'rendered ppocr-cls images (seed 7)', samples: 4, importance: 'obs-greedy' });
    expect(document.reconstruction?.layers.length).toBeGreaterThan(0);
    expect(document.report.warnings.join('\n')).not.toMatch(/accuracy was not checked/);
  }, 120_000);

  it('--no-calib opts out (and warns); it does not go with --calib or the calibration flags', async () => {
    const { document } = await runJsonAsync<PruneDocument>(['prune', 'ppocr-cls', '-o', 'plain.onnx', '--no-calib'], { cwd: folder });
    expect(document.calibration).toBeUndefined();
    expect(document.report.warnings[0]).toMatch(UNCHECKED);
    refused(runCli(['prune', 'ppocr-cls', '-o', 'x.onnx', '--no-calib', '--calib', 'lines'], { cwd: folder }), /^deprune: give --calib or --no-calib, not both/);
    refused(runCli(['prune', 'ppocr-cls', '-o', 'x.onnx', '--no-calib', '--calib-samples', '4'], { cwd: folder }), /^deprune: --calib-samples only applies when calibrating \(drop --no-calib\)/);
    refused(runCli(['prune', 'ppocr-cls', '-o', 'x.onnx', '--preset', 'imagenet'], { cwd: folder }), /^deprune: --preset only applies to --calib image folders/);
  });
});

/** x[1,4,8,8] -> dw -> pw -> y, with the DW conv's group and weight shape given; `edit` breaks the graph afterwards. */
function modelFile(name: string, options: { group?: number; dwWeight?: number[]; edit?: (graph: GraphProto) => void } = {}): string {
  const b = new GraphBuilder({ name: 'tiny' });
  const x = b.input('x', [1, 4, 8, 8]);
  const dwWeight = options.dwWeight ?? [4, 1, 3, 3];
  const dwValues = new Float32Array(dwWeight.reduce((a, c) => a * c, 1)).map((_, i) => (i % 7) - 3);
  const dw = b.node('Conv', [x, b.weight('dw.w', { data: dwValues, shape: dwWeight })], { group: options.group ?? 4, pads: [1, 1, 1, 1] }, { name: 'dw', outputs: ['dw_out'] });
  const pwValues = new Float32Array(8 * dwWeight[0]).map((_, i) => (i % 5) - 2);
  b.output(b.node('Conv', [dw, b.weight('pw.w', { data: pwValues, shape: [8, dwWeight[0], 1, 1] })], {}, { name: 'pw', outputs: ['y'] }));
  const proto = b.toProto();
  options.edit?.(proto.graph as GraphProto);
  writeFileSync(join(folder, name), encodeModel(proto));
  return name;
}

describe('prune refuses malformed graphs, naming the node (exit 2, no output)', () => {
  const prune = (model: string) => runCli(['prune', model, '-o', 'pruned.onnx'], { cwd: folder, timeout: 30_000 });
  const nodeNamed = (graph: GraphProto, name: string) => graph.node!.find((node) => node.name === name)!;

  it('a group that does not divide the channels is an error, not a warning', () => {
    const before = listFiles(folder);
    refused(prune(modelFile('group3.onnx', { group: 3, dwWeight: [6, 1, 3, 3] })), /^deprune: group3\.onnx: node 'dw': group 3 does not divide the 4 input channels/);
    refused(prune(modelFile('group3out.onnx', { group: 3 })), /^deprune: group3out\.onnx: node 'dw': group 3 does not divide the 4 output channels/);
    expect(listFiles(folder).filter((file) => !before.includes(file))).toEqual(['group3.onnx', 'group3out.onnx']);
  });

  it('a cycle, an undefined input and a value assigned twice', () => {
    refused(prune(modelFile('cycle.onnx', { edit: (graph) => (nodeNamed(graph, 'dw').input![0] = 'y') })), /^deprune: cycle\.onnx: node '(dw|pw)': the graph has a cycle through this node/);
    refused(prune(modelFile('ghost.onnx', { edit: (graph) => (nodeNamed(graph, 'pw').input![0] = 'ghost') })), /^deprune: ghost\.onnx: node 'pw': input 'ghost' is not defined/);
    refused(prune(modelFile('twice.onnx', { edit: (graph) => (nodeNamed(graph, 'pw').output![0] = 'dw_out') })), /^deprune: twice\.onnx: node 'pw': output 'dw_out' is assigned twice/);
    refused(
      prune(modelFile('outputs.onnx', { edit: (graph) => graph.output!.push({ ...graph.output![0] }) })),
      /^deprune: outputs\.onnx: node 'y': graph output 'y' is listed twice/,
    );
  });

  it('the same model, well formed, prunes', () => {
    expect(prune(modelFile('fine.onnx')).status).toBe(0);
  });
});
