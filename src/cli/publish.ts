// `godepot publish`: publish a module version to a running godepot.
import { Command } from 'commander';
import { ConfigError } from '../errors.js';
import { publishModule } from '../publish/publish.js';
import { withExamples } from './examples.js';
import { serverTransport } from './server-transport.js';

/** `godepot publish [DIR] --version V [--module PATH] --server URL --token T`. */
export function publishCommand(): Command {
  const command = new Command('publish')
    .description('publish a module version to a running godepot (serve --publish-token): its zip made from DIR, or from the git tag of the version when DIR is in a git work tree')
    .argument('[dir]', 'the module folder (default: .)')
    .requiredOption('--version <version>', 'the version to publish, e.g. v1.2.3 (v2.x.x for a /v2 module path)')
    .option('--module <path>', "the module path (default: the go.mod's module line)")
    .requiredOption('--server <url>', 'the godepot to publish to')
    .option('--token <token>', 'its publish token; $GODEPOT_TOKEN is better, as other users cannot read it from the process list (default: $GODEPOT_TOKEN)');
  return withExamples(command, [
    ['GODEPOT_TOKEN=... godepot publish --version v1.2.0 --server https://godepot.corp.example.com', 'the module in ., from its v1.2.0 git tag when . is in a git work tree'],
    'godepot publish ./lib --version v0.3.1 --module corp.example.com/lib --server https://godepot.corp.example.com',
  ]).action(async (dir: string = '.', flags: { version: string; module?: string; server: string; token?: string }) => {
      const token = flags.token ?? process.env.GODEPOT_TOKEN;
      if (token === undefined || token === '') throw new ConfigError('publish: a publish token is needed (--token or GODEPOT_TOKEN)');
      const transport = await serverTransport();
      try {
        const { modulePath, result } = await publishModule({
          dir,
          version: flags.version,
          modulePath: flags.module,
          server: flags.server,
          token,
          transport,
          onSource: (source, modulePath) => {
            for (const note of source.notes) process.stderr.write(`note: ${note}\n`);
            process.stderr.write(`publishing ${modulePath}@${flags.version} from ${source.description}\n`);
          },
        });
        const line = `${modulePath} ${result.version} ${result.h1}`;
        process.stdout.write(result.created ? `published ${line}\n` : `already published ${line} (the same content; nothing changed)\n`);
      } finally {
        await transport.close();
      }
    });
}
