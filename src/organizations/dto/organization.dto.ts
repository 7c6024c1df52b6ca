import { EVERYONE } from '../../shared/auth/policy';
import { Trim } from '../../shared/http/dto';
import { IsIn, IsString, Length } from 'class-validator';
import { OrgRole } from '../../shared/database/request-context';
import { ApiEnum, ApiString, NOT_BLANK } from '../../shared/http/openapi';

export const ROLES: OrgRole[] = [...EVERYONE];

export class CreateOrganizationDto {
  @ApiString({ minLength: 1, maxLength: 100, pattern: NOT_BLANK, description: '1–100 characters' })
  @Trim()
  @IsString()
  @Length(1, 100)
  name!: string;
}

export class RenameOrganizationDto extends CreateOrganizationDto {}

export class ChangeRoleDto {
  @ApiEnum(ROLES)
  @IsIn(ROLES)
  role!: OrgRole;
}
