#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so the published package needs no build step.
import { register } from 'tsx/esm/api';

register();
const { cli } = await import('../harness/cli/main.ts');
cli(process.argv.slice(2));
