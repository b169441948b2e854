/**
 * `@deprune/bench/browser`: what a page needs to run the suites, for a page bundled by its own
 * build (the benchmark page of apps/bench is one). The same functions the runner page of this
 * package publishes for `runSuiteInBrowser`. Nothing here calls a Node built-in, but some modules
 * import them: a bundler aliases `os`, `fs`, `path`, `url` and `module` (with or without `node:`)
 * to `@deprune/bench/node-stub`.
 */
export { PAGE_SUITES, probe, pageMachine, runInPage, publishPageApi } from './page-api';
export type { PageSuite, SuiteReport, PageModelSource, PageRunRequest, PageProgress, PageEnvironment, DepruneBenchPageApi, OrtModule } from './page-api';
export { ORT_WEB_BACKENDS, onnxruntimeWebYardstick } from './ort-web';
export type { OrtWebBackend, OrtWebYardstickOptions } from './ort-web';
export { SUITE_VIEWS, suiteView } from '../suite-views';
export type { SuiteView, AnySuiteReport } from '../suite-views';
export type { ReportTable } from '../report';
