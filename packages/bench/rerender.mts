// One-off (not committed): re-renders the docs reports from their JSON with the current views,
// recomputing repeatability against the first run where there was one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareRuns, writeSuiteReport, type AnySuiteReport } from './src/index.ts';
const [docs, first] = process.argv.slice(2);
for (const suite of ['models', 'prune', 'hsr', 'kernels/webgl2', 'kernels/webgpu']) {
  const folder = join(docs, suite);
  if (!existsSync(folder)) continue;
  for (const file of (readdirSync(folder, { recursive: true }) as string[]).filter((name) => name.endsWith('.json'))) {
    const path = join(folder, file);
    const report = JSON.parse(readFileSync(path, 'utf8')) as AnySuiteReport;
    const earlier = join(first, suite, file);
    if (report.repeatability !== undefined && existsSync(earlier)) report.repeatability = compareRuns(JSON.parse(readFileSync(earlier, 'utf8')), report);
    const files = await writeSuiteReport(report, docs);
    console.log(files.markdown, report.repeatability ? `${report.repeatability.within}/${report.repeatability.rows} ratios ${report.repeatability.ratios?.within}/${report.repeatability.ratios?.rows}` : '');
  }
}
