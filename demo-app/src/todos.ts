// The shared to-do list: a set CRDT `todos` holds the ids (add-wins), and each to-do is a
// map `todo:<id>` of registers (title, done, created). Deleting removes the id and the
// map; a rename racing a delete leaves a map nobody lists, so the delete wins visibly.
import type { Replica } from '../../core/src/doc/replica.ts';

export interface Todo {
  readonly id: string;
  readonly title: string;
  readonly done: boolean;
  readonly created: number;
}

const INDEX = 'todos';
const keyOf = (id: string): string => `todo:${id}`;

export function readTodos(replica: Replica): Todo[] {
  const out: Todo[] = [];
  for (const id of replica.set(INDEX).values()) {
    if (typeof id !== 'string') continue;
    const v = replica.get(keyOf(id)) as Record<string, unknown> | undefined;
    if (v === undefined || v === null || typeof v !== 'object') continue;
    out.push({ id, title: typeof v.title === 'string' ? v.title : '', done: v.done === true, created: typeof v.created === 'number' ? v.created : 0 });
  }
  return out.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
}

export function addTodo(replica: Replica, title: string): string {
  const id = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
  const m = replica.map(keyOf(id));
  m.set('title', title);
  m.set('done', false);
  m.set('created', Date.now());
  replica.set(INDEX).add(id);
  return id;
}

export class TodoList {
  private readonly unsubscribe: (() => void)[];
  private readonly rows = new Map<string, HTMLLIElement>();

  constructor(
    private readonly replica: Replica,
    private readonly list: HTMLUListElement,
    private readonly empty: HTMLElement,
    private readonly form: HTMLFormElement,
    private readonly input: HTMLInputElement,
  ) {
    form.addEventListener('submit', this.onSubmit);
    this.unsubscribe = [replica.subscribe(INDEX, () => this.render()), replica.subscribe('todo:*', () => this.render())];
    this.render();
  }

  dispose(): void {
    for (const u of this.unsubscribe) u();
    this.form.removeEventListener('submit', this.onSubmit);
    this.list.replaceChildren();
    this.rows.clear();
  }

  private readonly onSubmit = (e: Event): void => {
    e.preventDefault();
    const title = this.input.value.trim();
    if (title === '') return;
    addTodo(this.replica, title);
    this.input.value = '';
  };

  /** Updates rows in place (a focused title being edited keeps its text and caret). */
  private render(): void {
    const todos = readTodos(this.replica);
    const seen = new Set<string>();
    let before: ChildNode | null = this.list.firstChild;
    for (const t of todos) {
      seen.add(t.id);
      let li = this.rows.get(t.id);
      if (li === undefined) {
        li = this.row(t.id);
        this.rows.set(t.id, li);
      }
      this.fill(li, t);
      if (li !== before) this.list.insertBefore(li, before);
      before = li.nextSibling;
    }
    for (const [id, li] of this.rows) {
      if (seen.has(id)) continue;
      li.remove();
      this.rows.delete(id);
    }
    this.empty.hidden = todos.length > 0;
  }

  private row(id: string): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset.id = id;
    const check = document.createElement('input');
    check.type = 'checkbox';
    check.className = 'todo-done';
    check.addEventListener('change', () => this.replica.map(keyOf(id)).set('done', check.checked));
    const title = document.createElement('input');
    title.type = 'text';
    title.className = 'todo-title';
    title.maxLength = 200;
    const commit = (): void => {
      const v = title.value.trim();
      const current = this.replica.map(keyOf(id)).get('title');
      if (v !== '' && v !== current) this.replica.map(keyOf(id)).set('title', v);
      else if (v === '') title.value = typeof current === 'string' ? current : '';
    };
    title.addEventListener('change', commit);
    title.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') title.blur();
      if (e.key === 'Escape') {
        const current = this.replica.map(keyOf(id)).get('title');
        title.value = typeof current === 'string' ? current : '';
        title.blur();
      }
    });
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'todo-delete';
    del.textContent = '×';
    del.addEventListener('click', () => {
      this.replica.set(INDEX).remove(id);
      this.replica.delete(keyOf(id));
    });
    li.append(check, title, del);
    return li;
  }

  private fill(li: HTMLLIElement, t: Todo): void {
    const [check, title, del] = li.children as unknown as [HTMLInputElement, HTMLInputElement, HTMLButtonElement];
    check.checked = t.done;
    check.setAttribute('aria-label', `Done: ${t.title}`);
    title.setAttribute('aria-label', `Rename to-do "${t.title}"`);
    if (document.activeElement !== title) title.value = t.title;
    del.setAttribute('aria-label', `Delete "${t.title}"`);
    li.classList.toggle('done', t.done);
  }
}
