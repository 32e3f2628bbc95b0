/** Entry point of the `custos` command. Wiring lives in compose.ts; commands in cli/. */
import { runCli } from './cli/program.js';

process.exitCode = await runCli(process.argv);
