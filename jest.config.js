/**
 * `unit` is offline (no servers). `moto` holds the suites that run against the project's moto launcher
 * (test/aws/moto/forestall_moto.py): `npm test` runs both when moto is installed and says plainly when it
 * skipped `moto` (scripts/test.js); `npm run test:aws` runs `moto` alone; `npm run test:e2e` runs `e2e` (the
 * synthesized state machine run locally against the real handlers and moto).
 */
const transform = { '^.+\\.tsx?$': ['@swc/jest'] };
const common = { testEnvironment: 'node', transform, setupFiles: ['<rootDir>/test/setup.ts', '<rootDir>/test/aws-env.ts'] };
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/{core,sim,cli,cdk,adapters}/**/*.test.ts'] },
    { ...common, displayName: 'moto', testMatch: ['<rootDir>/test/aws/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/aws/timeout.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/aws/timeout.ts'],
    },
  ],
};
