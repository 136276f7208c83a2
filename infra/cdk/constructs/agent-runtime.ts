import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import { FlowLogDestination, FlowLogTrafficType, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Cluster } from 'aws-cdk-lib/aws-ecs';
import { Architecture, DockerImageCode, DockerImageFunction, LoggingFormat } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config.ts';
import { repoPath } from '../paths.ts';

export interface AgentRuntimeProps {
  config: DeploymentConfig;
  environment: Record<string, string>;
}

/**
 * Where the agent runs. On Lambda: a container image from `agent/Dockerfile` (OpenClaw's node_modules
 * are far over a zip's limit), ARM64, with memory for OpenClaw's 550–870 MB RSS and CPU for its
 * CPU-bound cold start, and a reserved-concurrency cap against runaway cost. For Fargate: a cluster with
 * Spot capacity in a VPC of public subnets only — no NAT gateway, no load balancer — whose tasks get a
 * public IP for outbound calls and a security group with no inbound rule.
 */
export class AgentRuntime extends Construct {
  readonly lambda: DockerImageFunction;
  readonly vpc: Vpc;
  readonly cluster: Cluster;
  readonly taskSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: AgentRuntimeProps) {
    super(scope, id);
    const { agent } = props.config;

    this.lambda = new DockerImageFunction(this, 'Lambda', {
      description: 'Runs one OpenClaw agent turn per MessageReceived.',
      code: DockerImageCode.fromImageAsset(repoPath(), {
        file: 'agent/Dockerfile',
        target: 'lambda',
        platform: Platform.LINUX_ARM64,
      }),
      architecture: Architecture.ARM_64,
      memorySize: agent.memoryMb,
      timeout: Duration.seconds(agent.timeoutSeconds),
      // Users' unpacked state, archives, SQLite scratch and OpenClaw's log share /tmp (512 MB by default).
      ephemeralStorageSize: Size.gibibytes(2),
      ...(agent.reservedConcurrency !== null
        ? { reservedConcurrentExecutions: agent.reservedConcurrency }
        : {}),
      environment: props.environment,
      logGroup: new LogGroup(this, 'LambdaLogs', {
        retention: RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      loggingFormat: LoggingFormat.JSON,
    });

    this.vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: SubnetType.PUBLIC, cidrMask: 24 }],
      // Rejected traffic only: enough to investigate, cheap at this volume.
      flowLogs: {
        rejected: {
          destination: FlowLogDestination.toCloudWatchLogs(
            new LogGroup(this, 'FlowLogs', {
              retention: RetentionDays.ONE_WEEK,
              removalPolicy: RemovalPolicy.DESTROY,
            }),
          ),
          trafficType: FlowLogTrafficType.REJECT,
        },
      },
    });
    this.taskSecurityGroup = new SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'Agent tasks: outbound only (LLM, AWS APIs); nothing may connect in.',
      allowAllOutbound: true,
    });
    this.cluster = new Cluster(this, 'Cluster', {
      vpc: this.vpc,
      enableFargateCapacityProviders: true,
    });
  }
}
