import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import { FlowLogDestination, FlowLogTrafficType, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import {
  Cluster,
  type ContainerDefinition,
  ContainerImage,
  CpuArchitecture,
  FargateTaskDefinition,
  LinuxParameters,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, DockerImageCode, DockerImageFunction, LoggingFormat } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config.ts';
import { repoPath } from '../paths.ts';

export interface AgentRuntimeProps {
  config: DeploymentConfig;
  /** The agent's environment on Lambda; the Fargate container gets the same plus its own timings. */
  environment: Record<string, string>;
}

/**
 * ECS sends SIGTERM, then SIGKILL after the container's stop timeout (120 s is Fargate's maximum). The
 * container's shutdown grace plus the 15 s its worker keeps for saving an interrupted turn must fit.
 */
const STOP_TIMEOUT = Duration.seconds(120);
const SHUTDOWN_GRACE_MS = 90_000;
/** A long run (browser automation, big tool chains) is why a message goes to Fargate at all. */
const FARGATE_TURN_TIMEOUT_MS = 30 * 60_000;

/**
 * Where the agent runs. On Lambda: a container image from `agent/Dockerfile` (OpenClaw's node_modules
 * are far over a zip's limit), ARM64, with memory for OpenClaw's 550–870 MB RSS and CPU for its
 * CPU-bound cold start, and a reserved-concurrency cap against runaway cost. On Fargate: one task per
 * active user, from the same Dockerfile's `fargate` target, on a cluster with Spot capacity in a VPC of
 * public subnets only — no NAT gateway, no load balancer — whose tasks get a public IP for outbound calls
 * and a security group with no inbound rule. No task runs until the runtime selector starts one.
 */
export class AgentRuntime extends Construct {
  readonly lambda: DockerImageFunction;
  readonly vpc: Vpc;
  readonly cluster: Cluster;
  readonly taskSecurityGroup: SecurityGroup;
  readonly taskDefinition: FargateTaskDefinition;
  readonly container: ContainerDefinition;
  /** The task's stdout: its logs and EMF lines (metric filters read those: monitoring.ts). */
  readonly taskLogGroup: LogGroup;
  /** The container whose environment RunTask overrides (USER_ID, IDLE_TIMEOUT_MS). */
  readonly containerName = 'agent';
  /** The role ECS uses to pull the image and write the container's logs (not the agent's own role). */
  readonly executionRole: IRole;

  constructor(scope: Construct, id: string, props: AgentRuntimeProps) {
    super(scope, id);
    const { agent } = props.config;

    this.lambda = new DockerImageFunction(this, 'Lambda', {
      description: 'Runs one OpenClaw agent turn, or a user’s queued messages, per invocation.',
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

    this.taskDefinition = new FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: agent.fargateCpu,
      memoryLimitMiB: agent.fargateMemoryMb,
      runtimePlatform: {
        cpuArchitecture: CpuArchitecture.ARM64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    // The root file system is read-only, as on Lambda; /tmp is the task's ephemeral storage. The image
    // declares VOLUME /tmp owned by `node`, which is how Fargate learns the mount's owner and mode.
    this.taskDefinition.addVolume({ name: 'tmp' });
    this.taskLogGroup = new LogGroup(this, 'TaskLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.container = this.taskDefinition.addContainer('Agent', {
      containerName: this.containerName,
      image: ContainerImage.fromAsset(repoPath(), {
        file: 'agent/Dockerfile',
        target: 'fargate',
        platform: Platform.LINUX_ARM64,
      }),
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: 'agent-container',
        TURN_TIMEOUT_MS: String(FARGATE_TURN_TIMEOUT_MS),
        SHUTDOWN_GRACE_MS: String(SHUTDOWN_GRACE_MS),
      },
      stopTimeout: STOP_TIMEOUT,
      readonlyRootFilesystem: true,
      // An init process as PID 1 forwards SIGTERM to node and reaps the processes OpenClaw's tools leave.
      linuxParameters: new LinuxParameters(this, 'AgentLinux', { initProcessEnabled: true }),
      logging: LogDrivers.awsLogs({
        streamPrefix: 'agent',
        logGroup: this.taskLogGroup,
      }),
    });
    this.container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
    this.executionRole = this.taskDefinition.obtainExecutionRole();
  }
}
