use super::*;

fn ops(body: &str) -> Vec<OpStatement> {
    let source = format!(
        "\"\"\"doc\"\"\"\nfrom alembic import op\nimport sqlalchemy as sa\n\naccounts = sa.table('accounts', sa.column('id'))\n\n\ndef upgrade():\n{body}\n\n\ndef downgrade():\n    op.drop_table('never_read')\n"
    );
    upgrade_ops(&source).expect("parses")
}

fn has(
    ops: &[OpStatement],
    kind: ObjectKind,
    name: &str,
    table: Option<&str>,
    action: Action,
) -> bool {
    ops.iter().any(|o| {
        o.touches.iter().any(|t| {
            t.object.kind == kind
                && t.object.name == name
                && t.object.table.as_deref() == table
                && t.action == action
        })
    })
}

#[test]
fn every_op_kind_is_read_as_the_objects_it_touches() {
    let o = ops(r#"    op.create_table(
        'orders',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id')),
        sa.UniqueConstraint('id', name='uq_orders_id'),
    )
    op.drop_table('old', schema='archive')
    op.add_column('users', sa.Column('email', sa.String(200)))
    op.drop_column('users', 'fax')
    op.alter_column('users', 'name', new_column_name='full_name')
    op.alter_column('users', 'age', nullable=True)
    op.create_index('ix_users_email', 'users', ['email'])
    op.drop_index('ix_old', table_name='users')
    op.create_foreign_key('fk_o_u', 'orders', 'customers', ['cid'], ['id'])
    op.create_unique_constraint('uq_email', 'users', ['email'])
    op.create_check_constraint('ck_age', 'users', 'age > 0')
    op.drop_constraint('fk_x', 'orders', type_='foreignkey')
    op.rename_table('people', 'persons')
    with op.batch_alter_table('items') as batch_op:
        batch_op.add_column(sa.Column('sku', sa.String()))
        batch_op.drop_column('legacy')
        batch_op.create_foreign_key('fk_items_orders', 'orders', ['order_id'], ['id'])
    op.bulk_insert(accounts, [{'id': 1}])
    op.execute("UPDATE users SET email = ''")"#);
    assert!(o.iter().all(|s| s.unknown.is_none()), "{o:#?}");
    use Action::*;
    use ObjectKind::*;
    assert!(has(&o, Table, "orders", None, Create));
    assert!(has(&o, Column, "user_id", Some("orders"), Create));
    assert!(has(&o, Table, "users", None, References));
    assert!(has(&o, Constraint, "uq_orders_id", Some("orders"), Create));
    assert!(has(&o, Table, "archive.old", None, Drop));
    assert!(has(&o, Table, "users", None, Alter));
    assert!(has(&o, Column, "email", Some("users"), Create));
    assert!(has(&o, Column, "fax", Some("users"), Drop));
    assert!(has(
        &o,
        Column,
        "name",
        Some("users"),
        Rename {
            to: "full_name".into()
        }
    ));
    assert!(has(&o, Column, "age", Some("users"), Alter));
    assert!(has(&o, Index, "ix_users_email", Some("users"), Create));
    assert!(has(&o, Index, "ix_old", Some("users"), Drop));
    assert!(has(&o, Constraint, "fk_o_u", Some("orders"), Create));
    assert!(has(&o, Table, "customers", None, References));
    assert!(has(&o, Constraint, "uq_email", Some("users"), Create));
    assert!(has(&o, Constraint, "ck_age", Some("users"), Create));
    assert!(has(&o, Constraint, "fk_x", Some("orders"), Drop));
    assert!(has(
        &o,
        Table,
        "people",
        None,
        Rename {
            to: "persons".into()
        }
    ));
    assert!(has(&o, Table, "items", None, Alter));
    assert!(has(&o, Column, "sku", Some("items"), Create));
    assert!(has(&o, Column, "legacy", Some("items"), Drop));
    assert!(has(
        &o,
        Constraint,
        "fk_items_orders",
        Some("items"),
        Create
    ));
    assert!(has(&o, Table, "orders", None, References));
    assert!(has(&o, Table, "accounts", None, Insert));
    let exec = o.iter().find(|s| s.call == "op.execute").expect("execute");
    assert_eq!(exec.sql.as_deref(), Some("UPDATE users SET email = ''"));
    assert!(
        !has(&o, Table, "never_read", None, Drop),
        "downgrade() is not read"
    );
    assert_eq!(o[1].line, 15, "lines are the module's");
}

#[test]
fn what_cannot_be_read_is_named_as_unknown() {
    let o = ops(r#"    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM users"))
    op.execute(users.update().values(active=True))
    helper()
    op.add_column(TABLE, sa.Column('x', sa.Integer()))
    if True:
        op.drop_table('maybe')"#);
    let unknown: Vec<&str> = o.iter().filter_map(|s| s.unknown.as_deref()).collect();
    assert_eq!(unknown.len(), 4, "{unknown:#?}");
    assert!(
        unknown[0].starts_with("`conn.execute(sa.text(\"DELETE FROM users\"))`"),
        "{unknown:?}"
    );
    assert!(unknown[1].contains("op.execute of something other than a literal"));
    assert!(unknown[2].starts_with("`helper()`"));
    assert!(unknown[3].contains("op.add_column with arguments migrate can't read"));
    assert!(
        has(&o, ObjectKind::Table, "maybe", None, Action::Drop),
        "branches count"
    );
}
