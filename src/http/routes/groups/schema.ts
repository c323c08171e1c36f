// Request and response shapes of /api/attendance/groups/.
import { Type, type Static } from '@sinclair/typebox';
import type { Group } from '../../../repositories/group.repository.js';
import { pageOf } from '../../pagination.js';
import { Id } from '../../schemas.js';

const Name = Type.String({ minLength: 1, maxLength: 256 });
const ExternalId = Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()], {
  description: 'Unique when set (409 ConflictError when taken)',
});

export const GroupParams = Type.Object({ id: Id });
export const MemberParams = Type.Object({ id: Id, person_id: Id });

export const CreateBody = Type.Object({ name: Name, external_id: Type.Optional(ExternalId) });
export const PatchBody = Type.Object({ name: Type.Optional(Name), external_id: Type.Optional(ExternalId) });

export const MembersBody = Type.Object({
  person_ids: Type.Array(Id, { maxItems: 10_000, description: 'Every id must name a person (else 400, naming them)' }),
});

export const GroupBody = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  external_id: Type.Union([Type.String(), Type.Null()]),
  member_count: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
});

export const GroupList = pageOf(GroupBody);

export const toGroup = (g: Group): Static<typeof GroupBody> => ({
  id: g.id,
  name: g.name,
  external_id: g.externalId,
  member_count: g.memberCount,
  created_at: g.createdAt,
});
