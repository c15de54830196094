#!/usr/bin/env node
// `npx sealbox …`: the built CLI (tools/cli/dist, made by `npm run build`). A committed shim, so the
// bin link npm makes at install time points at an executable file before the build has run.
import '../dist/main.js';
