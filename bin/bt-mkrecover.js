#!/usr/bin/env node
import { run } from '../dist/src/cli/run.js'
import { main, spec } from '../dist/src/cli/bt-mkrecover.js'
run(spec, main, process)
