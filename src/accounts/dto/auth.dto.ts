import { Optional, Trim } from '../../shared/http/dto';
import { IsByteLength, IsEmail, IsNotEmpty, IsString, Length, MaxLength } from 'class-validator';
import { ApiString, NOT_BLANK } from '../../shared/http/openapi';

/**
 * bcrypt reads only the first 72 bytes of a password: anything after them would not count,
 * so `"A"×72 + anything` would match. New passwords are refused past 72 UTF-8 bytes.
 */
export const PASSWORD_MAX_BYTES = 72;
const MaxPasswordBytes = () =>
  IsByteLength(0, PASSWORD_MAX_BYTES, {
    message: ({ property }) =>
      `${property} must be at most ${PASSWORD_MAX_BYTES} bytes in UTF-8 (bcrypt ignores the rest)`,
  });

/** A new password: 8–128 characters and at most 72 bytes in UTF-8 (so at most 72 characters). */
const ApiNewPassword = () =>
  ApiString({
    minLength: 8,
    maxLength: PASSWORD_MAX_BYTES,
    description: `8 characters or more, at most ${PASSWORD_MAX_BYTES} bytes in UTF-8`,
  });
const ApiEmail = (required = true, description?: string) =>
  ApiString({ required, format: 'email', maxLength: 254, description });

export class RegisterDto {
  @ApiEmail(true, 'Case does not matter: stored lower-cased')
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiNewPassword()
  @IsString()
  @Length(8, 128)
  @MaxPasswordBytes()
  password!: string;

  @ApiString({ minLength: 1, maxLength: 100, pattern: NOT_BLANK })
  @Trim()
  @IsString()
  @Length(1, 100)
  name!: string;

  @ApiString({
    required: false,
    minLength: 1,
    maxLength: 200,
    description: 'An invite token: the new account joins that org in the same transaction',
  })
  @Optional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  inviteToken?: string;
}

export class LoginDto {
  @ApiEmail()
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @ApiString({ minLength: 1, maxLength: 128 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  password!: string;
}

export class RefreshDto {
  @ApiString({ minLength: 1, maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  refreshToken!: string;
}

export class UpdateMeDto {
  @ApiString({ required: false, minLength: 1, maxLength: 100, pattern: NOT_BLANK })
  @Optional()
  @Trim()
  @IsString()
  @Length(1, 100)
  name?: string;

  @ApiEmail(false, 'Applies once the new address confirms it')
  @Optional()
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email?: string;
}

export class ChangePasswordDto {
  @ApiString({ minLength: 1, maxLength: 128 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  currentPassword!: string;

  @ApiNewPassword()
  @IsString()
  @Length(8, 128)
  @MaxPasswordBytes()
  newPassword!: string;
}

export class ForgotPasswordDto {
  @ApiEmail()
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email!: string;
}

/** A token mailed to an address: 43 URL-safe characters (32 random bytes). */
const ApiMailedToken = () =>
  ApiString({ minLength: 1, maxLength: 200, description: 'The token from the email' });

export class ResetPasswordDto {
  @ApiMailedToken()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token!: string;

  @ApiNewPassword()
  @IsString()
  @Length(8, 128)
  @MaxPasswordBytes()
  newPassword!: string;
}

export class VerifyEmailDto {
  @ApiMailedToken()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  token!: string;
}
