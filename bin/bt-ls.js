#!/usr/bin/env -S node --max-semi-space-size=4
import { run } from '../dist/src/cli/run.js'
import { main, spec } from '../dist/src/cli/bt-ls.js'
run(spec, main, process)
