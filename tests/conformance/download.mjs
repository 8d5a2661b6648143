// Downloads one artifact of this run with the official @actions/artifact client, unzipping it
// when the blob is a zip, exactly as actions/download-artifact does.
// Usage: node download.mjs (--id N | --name NAME) --path DIR [--expected-hash sha256:HEX]
// The last line of stdout is JSON: {"id", "downloadPath", "digestMismatch"}.
import { DefaultArtifactClient } from '@actions/artifact';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    name: { type: 'string' },
    path: { type: 'string' },
    'expected-hash': { type: 'string' },
  },
});

const client = new DefaultArtifactClient();
const id = values.id !== undefined
  ? Number(values.id)
  : (await client.getArtifact(values.name)).artifact.id;
const result = await client.downloadArtifact(id, {
  path: values.path,
  expectedHash: values['expected-hash'],
});
process.stdout.write(`\n${JSON.stringify({ id, ...result })}\n`);
