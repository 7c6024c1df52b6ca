import { Global, Module } from '@nestjs/common';
import { INVITE_REDEEMER, MEMBERSHIP_DIRECTORY } from '../shared/auth/ports';
import { InvitesController, OrgInvitesController } from './invites.controller';
import { InvitesRepository } from './invites.repository';
import { InvitesService } from './invites.service';
import { MembersController } from './members.controller';
import { MembersService } from './members.service';
import { OrganizationsMembershipDirectory } from './membership-directory';
import { OrganizationController, OrganizationsController } from './organizations.controller';
import { OrganizationsRepository } from './organizations.repository';
import { OrganizationsService } from './organizations.service';

/**
 * Orgs, memberships and invites. Global because it provides the kernel's ports: every
 * tenant module's routes pass the membership guard, which asks MEMBERSHIP_DIRECTORY.
 */
@Global()
@Module({
  controllers: [
    OrganizationsController,
    OrganizationController,
    MembersController,
    OrgInvitesController,
    InvitesController,
  ],
  providers: [
    OrganizationsRepository,
    InvitesRepository,
    OrganizationsService,
    MembersService,
    InvitesService,
    OrganizationsMembershipDirectory,
    { provide: MEMBERSHIP_DIRECTORY, useExisting: OrganizationsMembershipDirectory },
    { provide: INVITE_REDEEMER, useExisting: InvitesService },
  ],
  exports: [MEMBERSHIP_DIRECTORY, INVITE_REDEEMER],
})
export class OrganizationsModule {}
