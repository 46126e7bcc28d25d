#!/usr/bin/env node
import { main } from '../dist/cli/edgeprune.mjs';
process.exitCode = await main(process.argv);
