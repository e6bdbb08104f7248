// A plain textarea with a line-number gutter, for compose files. markError(line, text)
// highlights a line (gutter and a band across the text), scrolls it into view and puts the
// caret there; any edit clears the mark. Tab inserts two spaces. Main thread only.
import { h, replace } from 'pharos/dom.js';

const kLineHeight = 20;
const kPadding = 8;

export class LineEditor {
  constructor(host, { value = '', placeholder = '', id = 'compose-editor', onChange } = {}) {
    this.gutter_ = h('div', { class: 'editor-gutter', 'aria-hidden': 'true' });
    this.marker_ = h('div', { class: 'editor-marker', hidden: true });
    this.textarea = h('textarea', {
      id, spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', wrap: 'off', placeholder,
      oninput: () => { this.clearError(); this.renderGutter_(); if (onChange) onChange(); },
      onscroll: () => this.syncScroll_(),
      onkeydown: (e) => this.onKey_(e),
    });
    this.textarea.value = value;
    this.root = h('div', { class: 'editor' }, this.gutter_, this.textarea, this.marker_);
    host.appendChild(this.root);
    this.errorLine_ = 0;
    this.lines_ = 0;
    this.renderGutter_();
  }

  get value() {
    return this.textarea.value;
  }

  set value(text) {
    this.textarea.value = text;
    this.clearError();
    this.renderGutter_();
  }

  set disabled(flag) {
    this.textarea.readOnly = Boolean(flag);
  }

  markError(line) {
    this.errorLine_ = line;
    this.renderGutter_(true);
    const top = (line - 1) * kLineHeight;
    const visible = this.textarea.clientHeight;
    if (top < this.textarea.scrollTop || top > this.textarea.scrollTop + visible - 2 * kLineHeight) {
      this.textarea.scrollTop = Math.max(0, top - visible / 3);
    }
    const lines = this.textarea.value.split('\n');
    const offset = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    this.textarea.focus();
    this.textarea.setSelectionRange(offset, offset + (lines[line - 1] || '').length);
    this.syncScroll_();
  }

  clearError() {
    if (!this.errorLine_) return;
    this.errorLine_ = 0;
    this.renderGutter_(true);
  }

  renderGutter_(force = false) {
    const count = this.textarea.value.split('\n').length;
    if (count !== this.lines_ || force) {
      this.lines_ = count;
      const rows = [];
      for (let i = 1; i <= count; i += 1) {
        rows.push(h('div', { class: i === this.errorLine_ ? 'error-line' : '' }, String(i)));
      }
      replace(this.gutter_, rows);
    }
    this.syncScroll_();
  }

  syncScroll_() {
    this.gutter_.scrollTop = this.textarea.scrollTop;
    if (this.errorLine_) {
      this.marker_.hidden = false;
      this.marker_.style.top = `${kPadding + (this.errorLine_ - 1) * kLineHeight - this.textarea.scrollTop}px`;
    } else {
      this.marker_.hidden = true;
    }
  }

  onKey_(e) {
    if (e.key !== 'Tab' || e.shiftKey || this.textarea.readOnly) return;
    e.preventDefault();
    const { selectionStart: start, selectionEnd: end, value } = this.textarea;
    this.textarea.value = value.slice(0, start) + '  ' + value.slice(end);
    this.textarea.setSelectionRange(start + 2, start + 2);
    this.textarea.dispatchEvent(new Event('input'));
  }
}
