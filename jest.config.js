// Two projects: unit tests need no cluster and run in parallel; integration tests share one real
// control plane (started in globalSetup) and run one file at a time.
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
};
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  // dcmjs's package.json names an ES build Node itself never loads (it takes "main"): jest takes the same.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1', '^dcmjs$': '<rootDir>/node_modules/dcmjs/build/dcmjs.js' },
  transform,
  testEnvironment: '<rootDir>/test/env/node-realm.js',
};

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.js',
      globalTeardown: '<rootDir>/test/integration/global-teardown.js',
      slowTestThreshold: 60,
    },
  ],
};
