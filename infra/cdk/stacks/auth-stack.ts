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
 * (no secret: it runs in a browser). `<openclaw-sign-in>` signs in with USER_PASSWORD_AUTH and refreshes
 * with REFRESH_TOKEN_AUTH — the two flows local mode's issuer speaks too; SRP and the hosted UI (when a
 * domain prefix is set) stay available.
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
      // USER_PASSWORD_AUTH: the sign-in element's flow (the password goes to Cognito over TLS), the same
      // InitiateAuth call local mode's issuer answers. SRP stays for clients that prefer it; the admin
      // flow (IAM credentials required) lets an operator fetch a token from the CLI. CDK adds
      // ALLOW_REFRESH_TOKEN_AUTH to any explicit list.
      authFlows: { userPassword: true, userSrp: true, adminUserPassword: true },
      preventUserExistenceErrors: true,
      // Sign-out revokes the refresh token (RevokeToken), so a copied one stops working.
      enableTokenRevocation: true,
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
