import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsString, Length } from 'class-validator';
import { OrgRole } from '../../shared/database/request-context';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
export const ROLES: OrgRole[] = ['owner', 'admin', 'member', 'viewer'];

export class CreateOrganizationDto {
  /** 1–100 characters. */
  @Transform(trim)
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
