#!/usr/bin/env node
import { dispatch } from '../dist/src/cli/backtory.js'
dispatch(process)
