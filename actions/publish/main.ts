import { join } from 'node:path';
import { run } from '../../src/runner/index.js';
import { publish, summaryMarkdown, writeReport } from '../../src/publish/publish.js';
import { inputs } from './inputs.js';

void run(inputs, async (i, rt) => {
  const outcome = await publish({
    image: i.image,
    registry: i.registry,
    repository: i.repository,
    plainHttp: i['plain-http'],
    tags: i.tags,
    username: i.username,
    password: i.password,
    githubToken: i['github-token'],
    labels: i.labels,
    annotations: i.annotations,
    index: i.index,
    mountFrom: i['mount-from'],
    ctx: rt.context,
    env: rt.env,
    log: rt.log,
    onSecret: rt.setSecret,
  });
  const reportFile = writeReport(join(rt.context.runnerTemp, 'nix-actions'), outcome);
  rt.setOutput('digest', outcome.digest);
  rt.setOutput('image-ref', outcome.imageRef);
  rt.setOutput('tags', outcome.tags.join(','));
  rt.setOutput('report', reportFile);
  rt.log.info(`Published ${outcome.imageRef}${outcome.tags.length ? ` as ${outcome.tags.join(', ')}` : ''}`);
  await rt.summary(summaryMarkdown(outcome));
});
