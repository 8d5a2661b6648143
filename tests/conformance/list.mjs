// Lists this run's artifacts with the official @actions/artifact client.
// Usage: node list.mjs [--latest]
// The last line of stdout is JSON: [{"id", "name", "size", "digest", "createdAt"}, ...].
import { DefaultArtifactClient } from '@actions/artifact';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { latest: { type: 'boolean', default: false } } });

const client = new DefaultArtifactClient();
const { artifacts } = await client.listArtifacts({ latest: values.latest });
process.stdout.write(`\n${JSON.stringify(artifacts)}\n`);
