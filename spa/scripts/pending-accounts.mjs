// The accounts API as announced for main (issue "accounts"), used only for operations the
// committed spec does not have yet. Each entry is dropped by gen-api.mjs as soon as the real
// spec defines the same path and method, and this file goes away once they all landed.
const J = 'application/json; charset=utf-8';
const ref = (n) => ({ $ref: `#/components/schemas/${n}` });
const arr = (items) => ({ type: 'array', items });
const str = { type: 'string' };
const bool = { type: 'boolean' };
const int = { type: 'integer', format: 'uint32' };
const obj = (properties, required = Object.keys(properties)) => ({ type: 'object', required, properties });
const err = { content: { [J]: { schema: ref('ApiErrorBody') } }, description: 'Error' };
const ok = (schema, status = '200') => ({ [status]: { description: 'OK', content: { [J]: { schema } } } });
const none = (status = '204') => ({ [status]: { description: 'Done' } });
const body = (schema) => ({ required: true, content: { [J]: { schema } } });
const p = (name, inn = 'path', schema = str) => ({ name, in: inn, required: inn === 'path', schema });
const op = (operationId, responses, extra = {}) => ({
  operationId,
  responses: { ...responses, 400: err, 401: err, 403: err, 404: err, 409: err, 429: err },
  ...extra,
});

export const schemas = {
  SiteRole: { type: 'object', required: ['domain', 'role'], properties: { domain: str, role: { type: 'string', enum: ['owner', 'admin', 'viewer'] } } },
  Me: obj({ id: int, email: str, name: { type: 'string', nullable: true }, is_admin: bool, sites: arr(ref('SiteRole')) }, ['id', 'email', 'is_admin', 'sites']),
  SetupStatus: obj({ needed: bool }),
  SetupBody: obj({ email: str, password: str, name: str }, ['email', 'password']),
  LoginBody: obj({ email: str, password: str, remember: bool }, ['email', 'password']),
  PasswordChange: obj({ current_password: str, new_password: str }),
  UserView: obj({ id: int, email: str, name: str, is_admin: bool, created_at: str }, ['id', 'email', 'is_admin']),
  UserPatch: obj({ is_admin: bool }, []),
  InviteBody: obj({ email: str, is_admin: bool, site: str, role: str }, ['email']),
  InviteCreated: obj({ token: str, url: str, email: str, expires_at: str }),
  InviteInfo: obj({ email: str, site: str, role: str }, ['email']),
  AcceptInvite: obj({ password: str, name: str }, ['password']),
  Member: obj({ user_id: int, email: str, name: str, role: str }, ['user_id', 'email', 'role']),
  RoleBody: obj({ role: str }),
  TokenView: obj({ id: int, name: str, scope: str, sites: arr(str), created_at: str, expires_at: str, last_used_at: str }, ['id', 'name', 'scope', 'sites', 'created_at']),
  CreateToken: obj({ name: str, scope: str, sites: arr(str), expires_in_days: int }, ['name', 'scope']),
  TokenCreated: obj({ id: int, name: str, scope: str, sites: arr(str), created_at: str, token: str }, ['id', 'token']),
  ShareView: obj({ id: int, name: str, has_password: bool, created_at: str }, ['id', 'has_password', 'created_at']),
  CreateShare: obj({ name: str, password: str }, []),
  ShareCreated: obj({ id: int, token: str, url: str }),
  OpenShare: obj({ password: str }, []),
  ShareAccess: obj({ access_token: str, site: ref('SiteView'), expires_at: str }),
  UpdateSite: obj({ hostnames: arr(str), timezone: str, honor_dnt: bool, honor_gpc: bool, excluded_ips: arr(str), retention_days: int }, []),
  OverviewSite: obj({ domain: str, visitors: int, pageviews: int, visitors_change: { type: 'number', nullable: true }, pageviews_change: { type: 'number', nullable: true }, series: arr(obj({ date: str, visitors: int })) }),
  Overview: obj({ sites: arr(ref('OverviewSite')) }),
  AuditEntry: obj({ at: str, actor: str, action: str, target: str, ip: str }, ['at', 'action']),
};

export const paths = {
  '/setup': {
    get: op('setupStatus', ok(ref('SetupStatus'))),
    post: op('setup', ok(ref('Me'), '201'), { requestBody: body(ref('SetupBody')) }),
  },
  '/auth/login': { post: op('login', ok(ref('Me')), { requestBody: body(ref('LoginBody')) }) },
  '/auth/logout': { post: op('logout', none()) },
  '/me': { get: op('me', ok(ref('Me'))) },
  '/me/password': { put: op('changePassword', none(), { requestBody: body(ref('PasswordChange')) }) },
  '/users': { get: op('listUsers', ok(arr(ref('UserView')))) },
  '/users/{id}': {
    patch: op('updateUser', ok(ref('UserView')), { parameters: [p('id', 'path', int)], requestBody: body(ref('UserPatch')) }),
    delete: op('deleteUser', none(), { parameters: [p('id', 'path', int)] }),
  },
  '/invites': { post: op('createInvite', ok(ref('InviteCreated'), '201'), { requestBody: body(ref('InviteBody')) }) },
  '/invites/{token}': { get: op('inviteInfo', ok(ref('InviteInfo')), { parameters: [p('token')] }) },
  '/invites/{token}/accept': { post: op('acceptInvite', ok(ref('Me'), '201'), { parameters: [p('token')], requestBody: body(ref('AcceptInvite')) }) },
  '/sites/{site}/members': { get: op('listMembers', ok(arr(ref('Member'))), { parameters: [p('site')] }) },
  '/sites/{site}/members/{user_id}': {
    put: op('setMember', none(), { parameters: [p('site'), p('user_id', 'path', int)], requestBody: body(ref('RoleBody')) }),
    delete: op('removeMember', none(), { parameters: [p('site'), p('user_id', 'path', int)] }),
  },
  '/tokens': {
    get: op('listTokens', ok(arr(ref('TokenView')))),
    post: op('createToken', ok(ref('TokenCreated'), '201'), { requestBody: body(ref('CreateToken')) }),
  },
  '/tokens/{id}': { delete: op('revokeToken', none(), { parameters: [p('id', 'path', int)] }) },
  '/sites/{site}/shares': {
    get: op('listShares', ok(arr(ref('ShareView'))), { parameters: [p('site')] }),
    post: op('createShare', ok(ref('ShareCreated'), '201'), { parameters: [p('site')], requestBody: body(ref('CreateShare')) }),
  },
  '/sites/{site}/shares/{id}': { delete: op('revokeShare', none(), { parameters: [p('site'), p('id', 'path', int)] }) },
  '/share/{token}': { post: op('openShare', ok(ref('ShareAccess')), { parameters: [p('token')], requestBody: body(ref('OpenShare')) }) },
  '/sites/{site}': {
    get: op('getSite', ok(ref('SiteView')), { parameters: [p('site')] }),
    patch: op('updateSite', ok(ref('SiteView')), { parameters: [p('site')], requestBody: body(ref('UpdateSite')) }),
    delete: op('deleteSite', none(), { parameters: [p('site')] }),
  },
  '/overview': { get: op('overview', ok(ref('Overview')), { parameters: [p('period', 'query')] }) },
  '/audit': { get: op('auditLog', ok(arr(ref('AuditEntry'))), { parameters: [p('limit', 'query', int)] }) },
};

// SiteView gains these fields with accounts.
export const siteViewExtra = {
  excluded_ips: arr(str),
  retention_days: { type: 'integer', format: 'uint32', nullable: true },
  role: str,
};
