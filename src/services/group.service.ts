// Groups (rosters of persons) and their members.
import { NotFoundError } from '../errors.js';
import type { AttendanceStore } from '../repositories/attendance-store.js';
import type { Group, GroupRepository, NewGroup } from '../repositories/group.repository.js';
import type { MediaStorage } from '../repositories/media-storage.js';
import type { Person, PersonRepository } from '../repositories/person.repository.js';
import type { Page } from './person.service.js';
import { removeGroup } from './session-removal.js';

export interface GroupServiceDeps {
  groups: GroupRepository;
  persons: PersonRepository;
  /** Deleting a group takes its sessions' photos, faces and files along. */
  store: AttendanceStore;
  storage: MediaStorage;
}

export class GroupService {
  constructor(private readonly deps: GroupServiceDeps) {}

  create(group: NewGroup): Promise<Group> {
    return this.deps.groups.create(group);
  }

  async get(id: number): Promise<Group> {
    const group = await this.deps.groups.findById(id);
    if (!group) throw new NotFoundError(`Group ${id} not found`, { group_id: id });
    return group;
  }

  /** By external_id or name (the CLI's --group). */
  findByKey(key: string): Promise<Group | undefined> {
    return this.deps.groups.findByKey(key);
  }

  /** `groupIds`: only these (a scoped key's groups). */
  list(page: Page & { groupIds?: readonly number[] }): Promise<{ count: number; groups: Group[] }> {
    return this.deps.groups.list({
      offset: (page.page - 1) * page.pageSize,
      limit: page.pageSize,
      ids: page.groupIds,
    });
  }

  async update(id: number, patch: Partial<NewGroup>): Promise<Group> {
    const group = await this.deps.groups.update(id, patch);
    if (!group) throw new NotFoundError(`Group ${id} not found`, { group_id: id });
    return group;
  }

  /** The group, its sessions with their photos, faces and files; its persons stay. */
  async delete(id: number): Promise<void> {
    if (!(await removeGroup(this.deps.store, this.deps.storage, id)))
      throw new NotFoundError(`Group ${id} not found`, { group_id: id });
  }

  async memberIds(id: number): Promise<number[]> {
    await this.get(id);
    return this.deps.groups.memberIds(id);
  }

  async members(id: number, page: Page): Promise<{ count: number; persons: Person[] }> {
    await this.get(id);
    return this.deps.persons.list({ offset: (page.page - 1) * page.pageSize, limit: page.pageSize, groupId: id });
  }

  async addMembers(id: number, personIds: readonly number[]): Promise<Group> {
    await this.get(id);
    await this.deps.groups.addMembers(id, personIds);
    return this.get(id);
  }

  async replaceMembers(id: number, personIds: readonly number[]): Promise<Group> {
    await this.get(id);
    await this.deps.groups.replaceMembers(id, personIds);
    return this.get(id);
  }

  async removeMember(id: number, personId: number): Promise<void> {
    await this.get(id);
    if (!(await this.deps.groups.removeMember(id, personId)))
      throw new NotFoundError(`Person ${personId} is not a member of group ${id}`, {
        group_id: id,
        person_id: personId,
      });
  }
}
