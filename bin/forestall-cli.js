#!/usr/bin/env node
// npm bin entry: runs the TypeScript CLI through tsx (no build step).
require('tsx/cjs');
require('./forestall-cli.ts');
