/** Three projects: `unit` is what `npm test` runs (offline, no servers); `moto` needs moto_server; `e2e` runs the state machine. */
const transform = { '^.+\\.tsx?$': ['@swc/jest'] };
const common = { testEnvironment: 'node', transform, setupFiles: ['<rootDir>/test/setup.ts'] };
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/{core,sim,cli,cdk}/**/*.test.ts'] },
    { ...common, displayName: 'moto', testMatch: ['<rootDir>/test/aws/**/*.test.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
