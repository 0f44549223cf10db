/** The little XML OSS speaks: escaped text elements, nested elements, and the document prologue. */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

const escapeXml = (value: string) => value.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char);

export const unescapeXml = (value: string) =>
  value.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) =>
    name === 'amp' ? '&' : name === 'lt' ? '<' : name === 'gt' ? '>' : name === 'quot' ? '"' : "'",
  );

/** `<name>escaped value</name>` */
export const text = (name: string, value: string | number | boolean) =>
  `<${name}>${escapeXml(String(value))}</${name}>`;

/** `<name>…children…</name>`, children already rendered. */
export const element = (name: string, children: string[]) => `<${name}>${children.join('')}</${name}>`;

export const xmlDocument = (root: string) => `<?xml version="1.0" encoding="UTF-8"?>\n${root}`;
