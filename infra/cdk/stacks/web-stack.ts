import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AllowedMethods,
  Distribution,
  HttpVersion,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import { renderChatPage } from '../../../webcomponents/page.ts';

export interface WebStackProps extends StackProps {
  /** Folder holding the built `openclaw-chat.js` (see `buildWebComponents`). */
  bundleDir: string;
  webSocketUrl: string;
  httpApiUrl: string;
  userPoolId: string;
  userPoolClientId: string;
}

/**
 * The web chat's static site: a private bucket behind CloudFront with origin access control, holding
 * the `<openclaw-chat>` bundle, a page that embeds it, and `config.json` with the endpoints the page needs.
 */
export class WebStack extends Stack {
  readonly distribution: Distribution;

  constructor(scope: Construct, id: string, props: WebStackProps) {
    super(scope, id, props);
    const site = new Bucket(this, 'Site', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });
    this.distribution = new Distribution(this, 'Cdn', {
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(site),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
      comment: 'serverless-openclaw web chat',
    });
    new BucketDeployment(this, 'Deploy', {
      destinationBucket: site,
      distribution: this.distribution,
      sources: [
        Source.asset(props.bundleDir),
        Source.data(
          'index.html',
          renderChatPage({ scriptUrl: '/openclaw-chat.js', wsUrl: props.webSocketUrl }),
        ),
        Source.jsonData('config.json', {
          webSocketUrl: props.webSocketUrl,
          httpApiUrl: props.httpApiUrl,
          region: this.region,
          userPoolId: props.userPoolId,
          userPoolClientId: props.userPoolClientId,
        }),
      ],
    });
    new CfnOutput(this, 'WebUrl', { value: `https://${this.distribution.distributionDomainName}` });
  }
}
