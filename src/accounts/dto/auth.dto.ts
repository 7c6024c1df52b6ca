import { Optional, Trim } from '../../shared/http/dto';
import { IsByteLength, IsEmail, IsNotEmpty, IsString, Length, MaxLength } from 'class-validator';

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

export class RegisterDto {
  /** Case does not matter: stored lower-cased. */
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  /** 8–128 characters and at most 72 bytes in UTF-8. */
  @IsString()
  @Length(8, 128)
  @MaxPasswordBytes()
  password!: string;

  @Trim()
  @IsString()
  @Length(1, 100)
  name!: string;

  /** An invite token: the new account joins that org in the same transaction. */
  @Optional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  inviteToken?: string;
}

export class LoginDto {
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  password!: string;
}

export class RefreshDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  refreshToken!: string;
}

export class UpdateMeDto {
  @Optional()
  @Trim()
  @IsString()
  @Length(1, 100)
  name?: string;

  @Optional()
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email?: string;
}

export class ChangePasswordDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  currentPassword!: string;

  /** 8–128 characters and at most 72 bytes in UTF-8. */
  @IsString()
  @Length(8, 128)
  @MaxPasswordBytes()
  newPassword!: string;
}
