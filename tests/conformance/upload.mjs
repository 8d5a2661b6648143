// Uploads files with the official @actions/artifact client, as actions/upload-artifact does.
// Usage: node upload.mjs --name NAME --root DIR [--compression-level N] [--retention-days N]
//                        [--skip-archive] FILE...
// The last line of stdout is the client's answer as JSON: {"id", "size", "digest"}.
import { DefaultArtifactClient } from '@actions/artifact';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  options: {
    name: { type: 'string' },
    root: { type: 'string' },
    'compression-level': { type: 'string' },
    'retention-days': { type: 'string' },
    'skip-archive': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

const options = { skipArchive: values['skip-archive'] };
if (values['compression-level'] !== undefined) {
  options.compressionLevel = Number(values['compression-level']);
}
if (values['retention-days'] !== undefined) {
  options.retentionDays = Number(values['retention-days']);
}

const client = new DefaultArtifactClient();
const result = await client.uploadArtifact(values.name, positionals, values.root, options);
process.stdout.write(`\n${JSON.stringify(result)}\n`);
