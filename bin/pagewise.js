#!/usr/bin/env node
// The CLI is compiled TypeScript (npm ci runs the build through the prepare script).
import "../dist/cli/main.js";
