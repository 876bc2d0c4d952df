/**
 * The browser side of passkey ceremonies: the server's options (JSON, binary fields base64url)
 * into `navigator.credentials`, and the credential it makes back into JSON for the server.
 */

/** Options as the server sends them: `{ publicKey: ... }`. */
export type PasskeyOptions = { [key: string]: unknown };

export function fromBase64url(text: string): ArrayBuffer {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return bytes.buffer;
}

export function toBase64url(buffer: ArrayBuffer | null): string | null {
  if (!buffer) return null;
  let text = '';
  for (const b of new Uint8Array(buffer)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

type Described = { id: string; type: string; transports?: string[] };
type PublicKeyJson = {
  challenge: string;
  user?: { id: string; name: string; displayName: string };
  excludeCredentials?: Described[];
  allowCredentials?: Described[];
  [key: string]: unknown;
};

/** Copies `value` without null members: the browser's dictionaries refuse null where a member may only be absent. */
function dropNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(dropNulls) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, dropNulls(v)])) as T;
  }
  return value;
}

function withBuffers(list: Described[] | undefined) {
  return list?.map((c) => ({ ...c, id: fromBase64url(c.id) })) as PublicKeyCredentialDescriptor[] | undefined;
}

/** Whether this browser can use passkeys at all. */
export function passkeysSupported(): boolean {
  return typeof window !== 'undefined' && !!window.PublicKeyCredential && !!navigator.credentials;
}

/** `navigator.credentials.create` with the server's registration options; the answer as JSON. */
export async function createPasskey(options: PasskeyOptions): Promise<Record<string, unknown>> {
  const pk = dropNulls(options['publicKey'] as PublicKeyJson);
  const publicKey = {
    ...pk,
    challenge: fromBase64url(pk.challenge),
    user: { ...pk.user!, id: fromBase64url(pk.user!.id) },
    excludeCredentials: withBuffers(pk.excludeCredentials) ?? [],
  } as unknown as PublicKeyCredentialCreationOptions;
  const cred = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential | null;
  if (!cred) throw new Error('no passkey was created');
  const response = cred.response as AuthenticatorAttestationResponse;
  return asJson(cred, {
    attestationObject: toBase64url(response.attestationObject),
    clientDataJSON: toBase64url(response.clientDataJSON),
    transports: response.getTransports?.() ?? [],
  });
}

/** A credential as the server reads it, with its `response` members already encoded. */
function asJson(cred: PublicKeyCredential, response: Record<string, unknown>): Record<string, unknown> {
  return { id: cred.id, rawId: toBase64url(cred.rawId), type: cred.type, extensions: cred.getClientExtensionResults(), response };
}

/** `navigator.credentials.get` with the server's sign-in options; the answer as JSON. */
export async function getPasskey(options: PasskeyOptions): Promise<Record<string, unknown>> {
  const pk = dropNulls(options['publicKey'] as PublicKeyJson);
  const publicKey = {
    ...pk,
    challenge: fromBase64url(pk.challenge),
    allowCredentials: withBuffers(pk.allowCredentials) ?? [],
  } as unknown as PublicKeyCredentialRequestOptions;
  const cred = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential | null;
  if (!cred) throw new Error('no passkey was chosen');
  const response = cred.response as AuthenticatorAssertionResponse;
  return asJson(cred, {
    authenticatorData: toBase64url(response.authenticatorData),
    clientDataJSON: toBase64url(response.clientDataJSON),
    signature: toBase64url(response.signature),
    userHandle: toBase64url(response.userHandle),
  });
}
