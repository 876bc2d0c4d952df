
-- Plausible's browser and OS names (domain::plausible_names, applied at ingest from now on) for
-- rows stored before: same pairs as the domain's tables (a unit test below checks).
UPDATE events SET browser = m.to_name FROM (VALUES
    ('Mobile Safari', 'Safari'),
    ('Chrome Mobile', 'Chrome'),
    ('Chrome Mobile iOS', 'Chrome'),
    ('Chrome Frame', 'Chrome'),
    ('HeadlessChrome', 'Headless Chrome'),
    ('Firefox Mobile', 'Firefox'),
    ('Firefox iOS', 'Firefox'),
    ('Firefox Beta', 'Firefox'),
    ('Firefox Alpha', 'Firefox'),
    ('Edge', 'Microsoft Edge'),
    ('Edge Mobile', 'Microsoft Edge'),
    ('IE', 'Internet Explorer'),
    ('IE Mobile', 'Internet Explorer'),
    ('IE Large Screen', 'Internet Explorer'),
    ('Opera Mobile', 'Opera'),
    ('Opera Mini', 'Opera'),
    ('Opera Coast', 'Opera'),
    ('Opera Neon', 'Opera'),
    ('Samsung Internet', 'Samsung Browser'),
    ('DuckDuckGo Mobile', 'DuckDuckGo Privacy Browser'),
    ('MiuiBrowser', 'MIUI Browser'),
    ('HuaweiBrowser', 'Huawei Browser'),
    ('Whale', 'Whale Browser'),
    ('Amazon Silk', 'Mobile Silk'),
    ('QQ Browser Mobile', 'QQ Browser'),
    ('QQ Browser Mini', 'QQ Browser'),
    ('Baidu Explorer', 'Baidu Browser'),
    ('Seznam prohlížeč', 'Seznam Browser'),
    ('BlackBerry WebKit', 'BlackBerry Browser'),
    ('Yandex Browser Lite', 'Yandex Browser')
) m(from_name, to_name) WHERE events.browser = m.from_name;
UPDATE events SET browser = 'Mobile App', browser_version = NULL WHERE browser IN (
    'Chrome Mobile WebView', 'Mobile Safari UI/WKWebView', 'Facebook', 'Facebook Messenger', 'Instagram', 'LINE', 'Twitter', 'Pinterest', 'Snapchat', 'TikTok', 'WeChat', 'Kurio App', 'ESPN', 'TopBuzz'
);
UPDATE events SET os = 'iPadOS'
WHERE os = 'iOS' AND device = 'Tablet' AND coalesce(try_cast(split_part(os_version, '.', 1) AS INTEGER), 0) >= 13;
UPDATE events SET os = m.to_name FROM (VALUES
    ('Mac OS X', 'Mac'),
    ('Mac OS', 'Mac'),
    ('Linux', 'GNU/Linux'),
    ('Linux Mint', 'Mint'),
    ('WatchOS', 'watchOS'),
    ('ATV OS X', 'tvOS'),
    ('Symbian^3', 'Symbian OS'),
    ('Symbian^3 Anna', 'Symbian OS'),
    ('Symbian^3 Belle', 'Symbian OS')
) m(from_name, to_name) WHERE events.os = m.from_name;
