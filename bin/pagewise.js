#!/usr/bin/env -S node --max-semi-space-size=64
// The flag: a larger young generation halves the server's garbage-collection time under load
// (BENCHMARKS.md). npm start passes it too; benches read it from the line above.
// The CLI is compiled TypeScript (npm ci runs the build through the prepare script).
import "../dist/cli/main.js";
