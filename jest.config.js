/**
 * `unit` is what `npm test` runs (offline, no servers). The `moto` (moto_server-backed adapters) and `e2e`
 * (the synthesized state machine run locally) projects hold the AWS stack's suites when it lands.
 */
const transform = { '^.+\\.tsx?$': ['@swc/jest'] };
const common = { testEnvironment: 'node', transform, setupFiles: ['<rootDir>/test/setup.ts'] };
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/{core,sim,cli,cdk}/**/*.test.ts'] },
    { ...common, displayName: 'moto', testMatch: ['<rootDir>/test/aws/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
