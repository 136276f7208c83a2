import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { repoPath } from '../paths.ts';

export interface NodeHandlerProps {
  /** Entry file relative to the repository root, e.g. `producers/web/handler.ts`. */
  entry: string;
  /** @default 'handler' */
  handler?: string;
  description: string;
  environment?: Record<string, string>;
  /** @default 256 */
  memorySize?: number;
  /** @default 10 seconds */
  timeout?: Duration;
}

/**
 * A small Lambda function from one of our TypeScript handlers: Node 24 on ARM64 (cheaper per GB-second),
 * bundled by esbuild at synth (no Docker), ESM because middy 7 is ESM-only, JSON logs kept one month.
 */
export class NodeHandler extends NodejsFunction {
  constructor(scope: Construct, id: string, props: NodeHandlerProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: repoPath(props.entry),
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      depsLockFilePath: repoPath('package-lock.json'),
      projectRoot: repoPath(),
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        // Bundle the AWS SDK too: the versions we test are the versions we ship.
        externalModules: [],
        mainFields: ['module', 'main'],
        // CommonJS dependencies (the AWS SDK) call require(); give ESM output one.
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        forceDockerBundling: false,
      },
    });
  }
}
