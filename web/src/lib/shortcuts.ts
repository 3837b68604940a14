/** The dashboard's keyboard shortcuts, as listed by the help overlay (`?`). The handlers live in App.svelte and the table. */
export interface Shortcut {
  /** Alternative keys (any one works). */
  keys: string[];
  action: string;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ['?'], action: 'Show or hide this list' },
  { keys: ['/'], action: 'Filter opportunities by instrument' },
  { keys: ['↓', 'j'], action: 'Next row (in the opportunities table)' },
  { keys: ['↑', 'k'], action: 'Previous row' },
  { keys: ['Enter', 'Space'], action: 'Chart the focused opportunity' },
  { keys: ['Esc'], action: 'Close this list, or clear the selected opportunity' },
  { keys: ['Alt+1'], action: 'Positions' },
  { keys: ['Alt+2'], action: 'Closed trades' },
  { keys: ['Alt+3'], action: 'Risk rejections' },
  { keys: ['Alt+4'], action: 'System' },
  { keys: ['Alt+5'], action: 'Config' },
  { keys: ['Alt+6'], action: 'Funding board' },
  { keys: ['Alt+7'], action: 'Alerts' },
];
