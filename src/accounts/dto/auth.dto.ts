import { Optional, Trim } from '../../shared/http/dto';
import { IsEmail, IsNotEmpty, IsString, Length, MaxLength } from 'class-validator';

export class RegisterDto {
  /** Case does not matter: stored lower-cased. */
  @Trim()
  @IsEmail()
  @MaxLength(254)
  email!: string;

  /** 8–128 characters. */
  @IsString()
  @Length(8, 128)
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

  /** 8–128 characters. */
  @IsString()
  @Length(8, 128)
  newPassword!: string;
}
