#!/usr/bin/env node
// Adds up the `test-results.json` files that vitest's JSON reporter writes in every
// workspace package (see tooling/vitest-preset) and prints, as its very last line,
//
//   N passed, N failed, N skipped
//
// CI reads that line instead of vitest's console summary, so a run that executed no
// test at all is visible. Exit status: 0 when at least one test passed and nothing
// failed; 1 otherwise (any failure, or zero tests ran).
//
// Usage: node tooling/scripts/count-results.mjs [repo-root]   (default: the cwd)
//
// What counts:
// - passed / failed: vitest's numPassedTests / numFailedTests.
// - A test file that failed before any of its tests ran (import error, syntax error,
//   a throwing top-level describe) has no test results of its own; it counts as one
//   failed test so that the line can't say "0 failed" about a broken file.
// - skipped: numPendingTests (it.skip) + numTodoTests (it.todo).
// - Packages with a `test` script but no results file are listed (their test task
//   did not run or did not finish, e.g. an earlier build step failed); they add no
//   numbers, but the test command itself will have failed in that case.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const RESULTS_FILE = 'test-results.json';
const root = resolve(process.argv[2] ?? process.cwd());

/** Directory globs from pnpm-workspace.yaml's `packages:` list (only `dir/*` and plain dirs are used here). */
function workspaceGlobs(rootDir) {
  const file = join(rootDir, 'pnpm-workspace.yaml');
  if (!existsSync(file)) return ['packages/*', 'apps/*', 'tooling/*'];
  const globs = [];
  let inPackages = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^packages:\s*$/.test(line)) {
      inPackages = true;
      continue;
    }
    if (inPackages) {
      const item = line.match(/^\s+-\s+['"]?([^'"#]+?)['"]?\s*(#.*)?$/);
      if (item) globs.push(item[1]);
      else if (/^\S/.test(line)) inPackages = false;
    }
  }
  return globs;
}

/** Package directories matched by the globs (a trailing `/*` means every child directory). */
function packageDirs(rootDir) {
  const dirs = [];
  for (const glob of workspaceGlobs(rootDir)) {
    if (glob.startsWith('!')) continue;
    if (glob.endsWith('/*')) {
      const parent = join(rootDir, glob.slice(0, -2));
      if (!existsSync(parent)) continue;
      for (const entry of readdirSync(parent).sort()) {
        const dir = join(parent, entry);
        if (statSync(dir).isDirectory() && existsSync(join(dir, 'package.json'))) dirs.push(dir);
      }
    } else if (existsSync(join(rootDir, glob, 'package.json'))) {
      dirs.push(join(rootDir, glob));
    }
  }
  return dirs;
}

function hasTestScript(dir) {
  try {
    return Boolean(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.test);
  } catch {
    return false;
  }
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const missing = [];
const problems = [];
let filesRead = 0;

for (const dir of packageDirs(root)) {
  const name = relative(root, dir);
  const file = join(dir, RESULTS_FILE);
  if (!existsSync(file)) {
    if (hasTestScript(dir)) missing.push(name);
    continue;
  }
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    // An unreadable report means we can't vouch for that package: count it as a failure.
    problems.push(`${name}: ${RESULTS_FILE} is not valid JSON (${error.message})`);
    totals.failed += 1;
    continue;
  }
  filesRead += 1;
  const passed = report.numPassedTests ?? 0;
  let failed = report.numFailedTests ?? 0;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  for (const fileResult of report.testResults ?? []) {
    if (fileResult.status === 'failed' && (fileResult.assertionResults ?? []).length === 0) {
      failed += 1;
      const firstLine = String(fileResult.message ?? '').split('\n')[0];
      problems.push(`${name}: ${relative(dir, fileResult.name ?? '?')} failed to load: ${firstLine}`);
    }
  }
  const total = report.numTotalTests ?? passed + failed + skipped;
  if (total === 0) problems.push(`${name}: vitest ran no tests (no test files found?)`);
  totals.passed += passed;
  totals.failed += failed;
  totals.skipped += skipped;
  console.log(`  ${name}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
}

if (filesRead === 0) console.log(`  no ${RESULTS_FILE} found under ${root}`);
for (const name of missing) console.log(`  ${name}: no ${RESULTS_FILE} (its test task did not run or did not finish)`);
for (const problem of problems) console.log(`  ! ${problem}`);

const skippedPart = totals.skipped > 0 ? `, ${totals.skipped} skipped` : '';
console.log(`${totals.passed} passed, ${totals.failed} failed${skippedPart}`);
process.exit(totals.failed === 0 && totals.passed > 0 ? 0 : 1);
