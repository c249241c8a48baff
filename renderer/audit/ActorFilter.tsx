import { useState } from 'react';

interface ActorFilterProps {
  value: string;
  /** Actors seen in the rows loaded: offered as the field is typed in. */
  suggestions: readonly string[];
  onCommit: (actor: string) => void;
}

/**
 * Who caused the events: typed (any actor the log may hold, not only those loaded), applied on Enter
 * or on leaving the field; Escape clears it. Keyed by the applied value, so a change made elsewhere
 * (a reset) shows.
 */
export function ActorFilter({ value, suggestions, onCommit }: ActorFilterProps) {
  const [text, setText] = useState(value);
  const commit = (next: string) => {
    const actor = next.trim();
    if (actor !== value) onCommit(actor);
  };
  return (
    <label>
      <span className="sr-only">Actor</span>
      <input
        className="input"
        type="search"
        placeholder="Any actor"
        list="audit-actors"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => commit(text)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit(text);
          if (e.key === 'Escape' && text) {
            e.stopPropagation();
            setText('');
            commit('');
          }
        }}
        data-testid="audit-filter-actor"
      />
      <datalist id="audit-actors">
        {suggestions.map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
    </label>
  );
}
