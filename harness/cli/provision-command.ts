import { provisionAll } from '../stack/provision.ts';
import { parse } from './args.ts';
import { type Command, output } from './command.ts';

export const provisionCommand: Command = {
  name: 'provision',
  usage: 'provision [--json]',
  async run(argv) {
    const { values } = parse(argv, { json: { type: 'boolean' } }, `streamproof ${provisionCommand.usage}`);
    const out = output(!!values.json);
    const done = await provisionAll(out.progress);
    if (out.json) out.data(done);
    else {
      for (const c of Object.values(done)) {
        out.print(
          `${c.name} ${c.version}: ${c.dir}${c.cached ? ' (cached)' : ` (fetched in ${c.seconds.toFixed(1)} s)`}`,
        );
      }
    }
    return 0;
  },
};
