import { Trim } from '../../shared/http/dto';
import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsString, Length } from 'class-validator';
import { OrgRole } from '../../shared/database/request-context';

export const ROLES: OrgRole[] = ['owner', 'admin', 'member', 'viewer'];

export class CreateOrganizationDto {
  /** 1–100 characters. */
  @Trim()
  @IsString()
  @Length(1, 100)
  name!: string;
}

export class RenameOrganizationDto extends CreateOrganizationDto {}

export class ChangeRoleDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: OrgRole;
}
