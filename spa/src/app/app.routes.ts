import { Routes } from '@angular/router';
import { adminGuard, signedInGuard, setupGuard } from './core/guards';

export const routes: Routes = [
  { path: 'setup', loadComponent: () => import('./pages/auth/setup').then((m) => m.SetupPage), title: 'Set up HitKeep' },
  { path: 'login', canActivate: [setupGuard], loadComponent: () => import('./pages/auth/login').then((m) => m.LoginPage), title: 'Sign in · HitKeep' },
  { path: 'invite/:token', loadComponent: () => import('./pages/auth/invite').then((m) => m.InvitePage), title: 'Accept invitation · HitKeep' },
  { path: 'share/:token', loadComponent: () => import('./pages/share/share').then((m) => m.SharePage), title: 'Shared dashboard · HitKeep' },
  {
    path: '',
    canActivate: [signedInGuard],
    canActivateChild: [signedInGuard],
    loadComponent: () => import('./pages/shell/shell').then((m) => m.Shell),
    children: [
      { path: '', pathMatch: 'full', loadComponent: () => import('./pages/sites/sites').then((m) => m.SitesPage), title: 'Sites · HitKeep' },
      { path: 'sites/new', loadComponent: () => import('./pages/sites/new-site').then((m) => m.NewSitePage), title: 'Add a site · HitKeep' },
      {
        path: 'sites/:site',
        loadComponent: () => import('./pages/site/site-frame').then((m) => m.SiteFrame),
        children: [
          { path: '', pathMatch: 'full', loadComponent: () => import('./pages/dashboard/dashboard').then((m) => m.Dashboard) },
          { path: 'events', loadComponent: () => import('./pages/events/events').then((m) => m.EventsPage) },
          { path: 'goals', loadComponent: () => import('./pages/goals/goals').then((m) => m.GoalsPage) },
          { path: 'ai', loadComponent: () => import('./pages/ai/ai-visibility').then((m) => m.AiVisibilityPage) },
          { path: 'settings', loadComponent: () => import('./pages/settings/settings').then((m) => m.SettingsPage) },
        ],
      },
      { path: 'account', loadComponent: () => import('./pages/account/account').then((m) => m.AccountPage), title: 'Account · HitKeep' },
      { path: 'admin', canActivate: [adminGuard], loadComponent: () => import('./pages/admin/admin').then((m) => m.AdminPage), title: 'Users · HitKeep' },
    ],
  },
  { path: '**', loadComponent: () => import('./pages/not-found').then((m) => m.NotFoundPage), title: 'Not found · HitKeep' },
];
