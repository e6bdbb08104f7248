// A virtualised table: only the rows in (and just around) the viewport exist in the DOM, so
// a fleet of thousands of nodes scrolls and updates as fast as a fleet of ten. Fixed row
// height; columns laid out with one CSS grid template shared by header and rows.
// Rows are updated in place: a row element is kept per key and a cell is replaced only when
// its content changed, so a selection of text (a node name to copy) survives updates.
// Columns with `sort` get a clickable header that calls onSort(key). Main thread only.
import { h, clear } from 'pharos/dom.js';

const kOverscan = 6;

export class VirtualTable {
  // columns: [{key, label, width, render(row) -> Node|string, className?, hideBelow?, sort?}]
  constructor(host, { columns, rowHeight = 44, rowKey, onRowClick, onSort, emptyText = 'Nothing to show' }) {
    this.columns_ = null;
    this.rowHeight_ = rowHeight;
    this.rowKey_ = rowKey;
    this.onRowClick_ = onRowClick;
    this.emptyText_ = emptyText;
    this.rows_ = [];
    this.onSort_ = onSort;
    this.sort_ = { key: '', dir: 'asc' };
    this.rowEls_ = new Map();  // key -> row element currently rendered
    this.allColumns_ = columns;
    this.width_ = 0;
    this.header_ = h('div', { class: 'vt-row vt-header', role: 'row' });
    this.layout_(window.innerWidth);
    this.spacer_ = h('div', { class: 'vt-spacer' });
    this.body_ = h('div', { class: 'vt-body', role: 'rowgroup' });
    this.empty_ = h('div', { class: 'vt-empty', hidden: true }, emptyText);
    this.viewport_ = h('div', { class: 'vt-viewport', onscroll: () => this.scheduleRender_() },
      this.spacer_, this.body_, this.empty_);
    this.root = h('div', { class: 'vt', role: 'table' }, this.header_, this.viewport_);
    host.appendChild(this.root);
    this.frame_ = null;
    this.resizeObserver_ = new ResizeObserver(() => {
      if (this.layout_(this.root.clientWidth)) this.render_();
      else this.scheduleRender_();
    });
    this.resizeObserver_.observe(this.viewport_);
  }

  // Picks the columns that fit `width` (a column with hideBelow: N shows only when the
  // table is at least N px wide). Returns true when the set changed.
  layout_(width) {
    const columns = this.allColumns_.filter((c) => !c.hideBelow || width >= c.hideBelow);
    if (this.columns_ && columns.length === this.columns_.length) return false;
    this.columns_ = columns;
    this.template_ = columns.map((c) => c.width || '1fr').join(' ');
    this.header_.style.gridTemplateColumns = this.template_;
    this.header_.replaceChildren(...columns.map((c) => {
      const sortable = Boolean(c.sort && this.onSort_);
      return h('div', {
        class: 'vt-cell ' + (c.className || '') + (sortable ? ' vt-sortable' : ''),
        role: 'columnheader',
        dataset: { column: c.key, ...(this.sort_.key === c.key ? { sort: this.sort_.dir } : {}) },
        onclick: sortable ? () => this.onSort_(c.key) : undefined,
      }, typeof c.label === 'function' ? c.label() : c.label);
    }));
    this.rowEls_.clear();
    if (this.body_) clear(this.body_);
    return true;
  }

  // Shows the sort indicator on column `key` ('asc' | 'desc'); the caller sorts the rows.
  setSort(key, dir) {
    this.sort_ = { key, dir };
    for (const cell of this.header_.children) {
      if (cell.dataset.column === key) cell.dataset.sort = dir;
      else delete cell.dataset.sort;
    }
  }

  setRows(rows) {
    this.rows_ = rows;
    this.spacer_.style.height = `${rows.length * this.rowHeight_}px`;
    this.empty_.hidden = rows.length > 0;
    this.render_();
  }

  get rows() {
    return this.rows_;
  }

  // Re-renders the visible rows (their data changed, or time-based text did).
  refresh() {
    this.render_();
  }

  scrollToIndex(index) {
    this.viewport_.scrollTop = index * this.rowHeight_;
    this.render_();
  }

  destroy() {
    this.resizeObserver_.disconnect();
    if (this.frame_) cancelAnimationFrame(this.frame_);
  }

  scheduleRender_() {
    if (this.frame_) return;
    this.frame_ = requestAnimationFrame(() => {
      this.frame_ = null;
      this.render_();
    });
  }

  render_() {
    const height = this.viewport_.clientHeight || 600;
    const top = this.viewport_.scrollTop;
    const first = Math.max(0, Math.floor(top / this.rowHeight_) - kOverscan);
    const last = Math.min(this.rows_.length, Math.ceil((top + height) / this.rowHeight_) + kOverscan);
    this.body_.style.transform = `translateY(${first * this.rowHeight_}px)`;
    const wanted = [];
    const kept = new Map();
    for (let i = first; i < last; i += 1) {
      const row = this.rows_[i];
      const key = this.rowKey_(row);
      let el = this.rowEls_.get(key);
      const cells = this.columns_.map((c) => h('div', { class: 'vt-cell ' + (c.className || ''), role: 'cell' }, c.render(row)));
      if (!el) {
        el = h('div', {
          class: 'vt-row' + (this.onRowClick_ ? ' vt-clickable' : ''),
          role: 'row',
          style: { gridTemplateColumns: this.template_, height: `${this.rowHeight_}px` },
          dataset: { key },
        }, cells);
        if (this.onRowClick_) {
          el.addEventListener('click', (e) => {
            if (e.target.closest('input, button, a, label')) return;
            if (String(window.getSelection && window.getSelection()).length > 0) return;  // selecting text
            this.onRowClick_(el.rowData, e);
          });
        }
      } else {
        cells.forEach((cell, j) => {
          const old = el.children[j];
          if (!old || !old.isEqualNode(cell)) {
            if (old) old.replaceWith(cell);
            else el.appendChild(cell);
          }
        });
      }
      el.rowData = row;
      kept.set(key, el);
      wanted.push(el);
    }
    this.rowEls_ = kept;
    const children = this.body_.children;
    const same = children.length === wanted.length && wanted.every((el, i) => children[i] === el);
    if (!same) this.body_.replaceChildren(...wanted);
  }
}
