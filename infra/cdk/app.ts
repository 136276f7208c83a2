/**
 * The CDK app: `npm run synth` (offline, no credentials, no Docker) or `npx cdk deploy --all`.
 * Settings come from deploy.config.json (see docs/deployment.md).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildWebComponents } from '../../webcomponents/build.ts';
import { type DeploymentConfig, loadDeploymentConfig } from './config.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';
import { repoPath } from './paths.ts';
import { AppStack } from './stacks/app-stack.ts';
import { AuthStack } from './stacks/auth-stack.ts';
import { DataStack } from './stacks/data-stack.ts';
import { WebStack } from './stacks/web-stack.ts';

export interface OpenClawApp {
  app: App;
  data: DataStack;
  auth: AuthStack;
  main: AppStack;
  web: WebStack;
}

/** Builds every stack of one deployment. Tests call this with their own config and outdir. */
export async function createOpenClawApp(config: DeploymentConfig, outdir?: string): Promise<OpenClawApp> {
  const app = new App(outdir ? { outdir } : {});
  const env = {
    account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: config.region ?? process.env.CDK_DEFAULT_REGION,
  };
  const name = (part: string) => `openclaw-${config.stage}-${part}`;
  const data = new DataStack(app, name('data'), { env, stage: config.stage, terminationProtection: true });
  const auth = new AuthStack(app, name('auth'), { env, config, terminationProtection: true });
  const main = new AppStack(app, name('app'), {
    env,
    config,
    table: data.table,
    userPool: auth.userPool,
    client: auth.client,
  });
  await buildWebComponents({ outdir: repoPath('dist', 'web') });
  const web = new WebStack(app, name('web'), {
    env,
    bundleDir: repoPath('dist', 'web'),
    webSocketUrl: main.webSocketUrl,
    httpApiUrl: main.httpApiUrl,
    userPoolId: auth.userPool.userPoolId,
    userPoolClientId: auth.client.userPoolClientId,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  acknowledgeNagFindings({ data, auth, main, web, stage: config.stage });
  return { app, data, auth, main, web };
}

if (import.meta.main) {
  const config = loadDeploymentConfig(process.env.OPENCLAW_DEPLOY_CONFIG ?? repoPath('deploy.config.json'));
  const { app } = await createOpenClawApp(config, process.env.CDK_OUTDIR ?? repoPath('cdk.out'));
  app.synth();
}
