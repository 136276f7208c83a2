import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from '../config.ts';

export interface AuthStackProps extends StackProps {
  config: DeploymentConfig;
}

/**
 * Who may talk to the agent: a Cognito user pool (Lite plan: free for the first 10,000 monthly users)
 * with self sign-up off unless configured, so an admin creates each user. The app client is public
 * (no secret: it runs in a browser) and uses SRP, or the hosted UI when a domain prefix is set.
 */
export class AuthStack extends Stack {
  readonly userPool: UserPool;
  readonly client: UserPoolClient;

  constructor(scope: Construct, id: string, props: AuthStackProps) {
    super(scope, id, props);
    const { auth } = props.config;

    this.userPool = new UserPool(this, 'Users', {
      featurePlan: FeaturePlan.LITE,
      selfSignUpEnabled: auth.selfSignUp,
      signInAliases: { email: true },
      autoVerify: { email: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { sms: false, otp: true },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const hostedUi = auth.hostedUiDomainPrefix !== undefined;
    if (hostedUi) {
      this.userPool.addDomain('HostedUi', { cognitoDomain: { domainPrefix: auth.hostedUiDomainPrefix! } });
    }
    this.client = this.userPool.addClient('WebClient', {
      generateSecret: false,
      // SRP for browsers; the admin flow (IAM credentials required) lets an operator fetch a token
      // from the CLI, e.g. to try the chat before the sign-in form of the web component exists.
      authFlows: { userSrp: true, adminUserPassword: true },
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      ...(hostedUi
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
              callbackUrls: auth.callbackUrls.length > 0 ? auth.callbackUrls : ['http://localhost:8787/'],
            },
          }
        : { disableOAuth: true }),
    });
    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.client.userPoolClientId });
  }
}
