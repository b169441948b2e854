/** Registers a test that the README's ts example is test/readme-example.ts and prints the README's text block. */
export declare function readmeExampleTest(testFileUrl: string, packageName: string): void;
